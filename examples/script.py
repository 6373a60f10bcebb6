"""A plain script (no create_object) that runs programs as child processes.

``ar.OpenChannel`` gives the script an address of its own, so it can create
objects and ``ar.Process`` children and select their results.
"""

import sys

from lib.factorial_if import FactorialReturned

import ansar.create as ar


def main(n):
    with ar.OpenChannel() as channel:
        channel.create(ar.Process, 'factorial', input=n)
        m = channel.select(ar.Completed, seconds=60.0)
        if not isinstance(m, ar.Completed):
            return 'no answer'
    value = m.value
    if not isinstance(value, FactorialReturned):
        return f'no factorial ({value})'
    return f'factorial({n}) is {value.value}'


if __name__ == '__main__':
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4))
