"""PodLab: a bilingual course and lifecycle explorer for Kubernetes Pods."""
