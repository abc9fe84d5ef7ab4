"""The default scheduler (``pkg/scheduler``): filters, scores, preemption, ``FailedScheduling``.
"""
