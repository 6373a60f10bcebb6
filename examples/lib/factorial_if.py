"""What factorial returns; shared by every process in the chain."""

import ansar.create as ar


class FactorialReturned(object):
    def __init__(self, value=0):
        self.value = value


ar.bind(FactorialReturned)
