"""A custom analysis of test results: ``ansar run --test-analyzer=analyzer``.

The input is the ``ar.TestSuite`` that ``ansar run`` gathers from the
``ar.TestReport`` results of its roles.
"""

import ansar.create as ar


def analyzer(self, settings, suite):
    for role in suite.report:
        self.console(f'Analyzed {role}')
    return ar.Ack()


ar.bind(analyzer)

factory_input = ar.TestSuite()

if __name__ == '__main__':
    ar.create_object(analyzer, factory_input=factory_input)
