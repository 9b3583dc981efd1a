"""Job machinery: the Huey queue, claims on jobs, the worker and the embedded worker.

It knows no resource: the product's job list and what wakes what are in ``roughy.jobs``, the
periodic work in ``roughy.housekeeping``; they register themselves on a :class:`JobQueue`.
"""
