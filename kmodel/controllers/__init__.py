"""The reference controllers of kube-controller-manager, one module each."""

from __future__ import annotations

import importlib

from kmodel.actors import Actor

# (module, class) in settle order. Modules are imported lazily so that a controller
# under construction does not break the others.
CONTROLLERS: tuple[tuple[str, str], ...] = (
    ("kmodel.controllers.nodelifecycle", "NodeLifecycleController"),
    ("kmodel.controllers.tainteviction", "TaintEvictionController"),
    ("kmodel.controllers.podgc", "PodGCController"),
    ("kmodel.controllers.replicaset", "ReplicaSetController"),
    ("kmodel.controllers.replicaset", "ReplicationControllerController"),
    ("kmodel.controllers.deployment", "DeploymentController"),
    ("kmodel.controllers.statefulset", "StatefulSetController"),
    ("kmodel.controllers.daemonset", "DaemonSetController"),
    ("kmodel.controllers.job", "JobController"),
    ("kmodel.controllers.cronjob", "CronJobController"),
    ("kmodel.controllers.ttlafterfinished", "TTLAfterFinishedController"),
    ("kmodel.controllers.persistentvolume", "PersistentVolumeController"),
    ("kmodel.controllers.garbagecollector", "GarbageCollector"),
)


def all_controllers() -> list[Actor]:
    """Instances of every reference controller that exists."""
    out: list[Actor] = []
    for module, cls in CONTROLLERS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue
            raise
        out.append(getattr(mod, cls)())
    return out
