"""Start a tree of processes and count them.

Every busy process runs each of its ``duties`` (executables such as noop or
snooze) as a child process. While ``management_levels`` is above 1 it also
starts ``managers`` busy processes, each one level lower. The result counts
the busy processes and their duties in the whole tree: levels 5, managers 3
and three duties make 484.
"""

from lib.job_if import Job, JobReturned

import ansar.create as ar


def busy(self, settings, job):
    if job.management_levels > 1:
        lower = Job(duties=job.duties, management_levels=job.management_levels - 1,
                    managers=job.managers)
        for i in range(job.managers):
            manager = self.create(ar.Process, 'busy', input=lower)
            self.assign(manager, f'manager-{i}')
    for duty in job.duties:
        worker = self.create(ar.Process, duty)
        self.assign(worker, duty)

    processes = 1  # this one
    with ar.AutoStop(self):  # on any exit, stop whatever is still running
        while self.working():
            m = self.select(ar.Completed, ar.Stop)
            if isinstance(m, ar.Stop):
                return ar.Aborted()
            self.debrief()
            if isinstance(m.value, JobReturned):
                processes += m.value.processes
            elif isinstance(m.value, (ar.Aborted, ar.Faulted)):
                return m.value
            else:
                processes += 1
    return JobReturned(processes=processes)


ar.bind(busy)

factory_input = Job(duties=['noop', 'snooze', 'factorial'], management_levels=2, managers=2)

if __name__ == '__main__':
    ar.create_object(busy, factory_input=factory_input)
