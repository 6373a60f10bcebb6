"""Class-based objects: a light switch (a StateMachine) and a tally (Stateless).

Neither has a thread of its own; their handlers run on the runtime's shared
threads. The main function sends ``toggles`` Toggle messages and reports the
switch's final state and the tally's count.
"""

import ansar.create as ar


class Toggle(object):
    pass  # a marker message: no fields


class Switched(object):
    def __init__(self, state='OFF', toggles=0):
        self.state = state
        self.toggles = toggles


ar.bind(Toggle)
ar.bind(Switched)


class Settings(object):
    def __init__(self, toggles=3):
        self.toggles = toggles


ar.bind(Settings)


# A Stateless object: a handler for each message type.
class Tally(ar.Point, ar.Stateless):
    def __init__(self):
        ar.Point.__init__(self)
        ar.Stateless.__init__(self)
        self.count = 0


def Tally_Start(self, message):
    pass


def Tally_Toggle(self, message):
    self.count += 1


def Tally_Stop(self, message):
    self.complete(self.count)


ar.bind(Tally, (ar.Start, Toggle, ar.Stop))


# A StateMachine: a handler for each state and message type, returning the next state.
class OFF:
    pass


class ON:
    pass


class Switch(ar.Point, ar.StateMachine):
    def __init__(self, tally):
        ar.Point.__init__(self)
        ar.StateMachine.__init__(self, OFF)
        self.tally = tally


def Switch_OFF_Start(self, message):
    return OFF


def Switch_OFF_Toggle(self, message):
    self.send(message, self.tally)  # forwarded unchanged
    return ON


def Switch_ON_Toggle(self, message):
    self.send(message, self.tally)
    return OFF


def Switch_OFF_Stop(self, message):
    self.complete(OFF.__name__)


def Switch_ON_Stop(self, message):
    self.complete(ON.__name__)


ar.bind(Switch, {
    OFF: (ar.Start, Toggle, ar.Stop),
    ON: (Toggle, ar.Stop),
})


def switch(self, settings):
    tally = self.create(Tally)
    light = self.create(Switch, tally)
    for _ in range(settings.toggles):
        self.send(Toggle(), light)
    self.send(ar.Stop(), light)
    state = self.select(ar.Completed).value

    self.send(ar.Stop(), tally)
    toggles = self.select(ar.Completed).value
    return Switched(state=state, toggles=toggles)


ar.bind(switch)

factory_settings = Settings()

if __name__ == '__main__':
    ar.create_object(switch, factory_settings=factory_settings)
