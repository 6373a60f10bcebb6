"""The work given to busy and what it reports back."""

import ansar.create as ar


class Job(object):
    def __init__(self, duties=None, management_levels=1, managers=1):
        self.duties = duties or ar.default_vector()
        self.management_levels = management_levels
        self.managers = managers


ar.bind(Job, object_schema={
    'duties': ar.VectorOf(ar.Unicode),
    'management_levels': int,
    'managers': int,
})


class JobReturned(object):
    def __init__(self, processes=0):
        self.processes = processes


ar.bind(JobReturned)
