"""Do nothing until interrupted (control-c, SIGTERM or ``ansar stop``)."""

import ansar.create as ar


def zombie(self):
    self.console('Do nothing until interrupted')
    self.select(ar.Stop)
    return ar.Aborted()


ar.bind(zombie)

if __name__ == '__main__':
    ar.create_object(zombie)
