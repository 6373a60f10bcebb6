"""A plain script (no create_object) that runs programs as child processes.

``ar.OpenChannel`` gives the script an address of its own, so it can create
objects and ``ar.Process`` children and select their results.
"""

import sys

from lib.factorial_if import FactorialReturned

import ansar.create as ar

USAGE = """usage: script.py [n]

Print factorial(n), calculated by the factorial program as a child process.
input: n, an int (default 4)"""


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


def arguments(words):
    """n from the command line; --help prints the usage. A plain script parses its own words."""
    if words[:1] in (['--help'], ['-h']):
        print(USAGE)
        sys.exit(0)
    if len(words) > 1 or words and not words[0].lstrip('-').isdigit():
        sys.stderr.write(f'script.py: expected one int, not {" ".join(words)!r} (script.py --help)\n')
        sys.exit(2)
    return int(words[0]) if words else 4


if __name__ == '__main__':
    print(main(arguments(sys.argv[1:])))
