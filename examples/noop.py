"""Log one line and end at once: the smallest component program.

Run it as a tool with ``python examples/noop.py --debug-level=CONSOLE``.
"""

import ansar.create as ar


def noop(self):
    self.console('Log this and exit')
    return ar.Ack()


ar.bind(noop)

if __name__ == '__main__':
    ar.create_object(noop)
