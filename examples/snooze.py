"""Wait for a configured number of seconds, or until told to stop.

``--seconds=5.0`` changes the wait for one run; ``--store-settings`` keeps it.
"""

import ansar.create as ar


class Settings(object):
    def __init__(self, seconds=2.0):
        self.seconds = seconds


ar.bind(Settings)


def snooze(self, settings):
    self.console(f'Do nothing for {settings.seconds} seconds')
    self.start(ar.T1, settings.seconds)
    m = self.select(ar.T1, ar.Stop)
    if isinstance(m, ar.T1):
        return ar.Ack()
    return ar.Aborted()


ar.bind(snooze)

factory_settings = Settings()

if __name__ == '__main__':
    ar.create_object(snooze, factory_settings=factory_settings)
