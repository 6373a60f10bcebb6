"""Calculate factorial(n) with a chain of processes, one for each step.

The input is n; each process asks a child process for factorial(n-1).
"""

from lib.factorial_if import FactorialReturned

import ansar.create as ar


def factorial(self, settings, n):
    self.console(f'factorial({n})')
    if n < 1:
        return FactorialReturned(value=1)

    child = self.create(ar.Process, 'factorial', input=n - 1)
    m = self.select(ar.Completed, ar.Stop)
    if isinstance(m, ar.Stop):
        self.send(m, child)  # the child process gets SIGINT
        self.select(ar.Completed)
        return ar.Aborted()

    value = m.value
    if not isinstance(value, FactorialReturned):
        return value  # Aborted or Faulted further down the chain
    return FactorialReturned(value=n * value.value)


ar.bind(factorial)

if __name__ == '__main__':
    ar.create_object(factorial, factory_input=5)
