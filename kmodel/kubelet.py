"""The kubelet: admits pods bound to its node, starts init containers then regular
containers, reports readiness, restarts exited containers per restartPolicy with
back-off, terminates pods being deleted and removes them, and heart-beats its Node.

Each Reconcile("kubelet", ns, pod) takes the next step for one pod, mirroring the
status updates a real kubelet posts (recorded traces show: Initialized with containers
waiting, then Running, then Ready; on deletion, containers terminated with phase
Succeeded/Failed from 1.27 on, then the final delete with grace 0).
Reconcile("kubelet", "", node) posts Ready=True for a live node whose status is not Ready.
A kubelet whose node is down does nothing.

Sources: pkg/kubelet/kubelet_pods.go (getPhase, generateAPIPodStatus),
pkg/kubelet/status/status_manager.go (TerminatePod), pkg/kubelet/lifecycle/predicate.go
(admission), pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions (a pod
whose regular containers have all exited for good is killed, native sidecars included,
and its sidecars are not restarted) and doBackOff with
client-go flowcontrol.Backoff (restart back-off: the first restart is immediate, then
10 s doubling to 300 s).

Deliberate abstractions: probes are not modelled (a running container is ready at the
next step); containers stop at once on SIGTERM (exit 0) rather than after up to the
grace period; the back-off never resets (upstream resets it once a container has run
for 10 minutes, which needs per-container memory the model does not keep).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from kmodel import apiserver
from kmodel.actions import Action, Reconcile, ready_node
from kmodel.config import ModelConfig
from kmodel.objects.meta import Condition, condition_true, find_condition, set_condition
from kmodel.objects.node import Node
from kmodel.objects.pod import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    TERMINAL_PHASES,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    Pod,
    PodSpec,
    pod_requests,
)
from kmodel.objects.selectors import untolerated_taints
from kmodel.state import ClusterState

NAME = "kubelet"
BACKOFF_INITIAL = 10  # seconds (kubelet.go backOffPeriod)
BACKOFF_MAX = 300  # seconds (kubelet.go MaxContainerBackOff)


def restart_backoff(restart_count: int) -> int:
    """Wait between a container's exit and its next restart, given its restarts so far.

    kuberuntime_manager.go doBackOff: a container with no back-off entry yet is restarted
    at once (IsInBackOffSince is false, Next creates the entry at 10 s); each later exit
    waits the current back-off from its finishedAt, which doubles per restart up to
    300 s (flowcontrol.Backoff.Next). So: 0, 10, 20, 40, 80, 160, 300, 300, ...
    """
    if restart_count <= 0:
        return 0
    return min(BACKOFF_INITIAL * (2 ** min(restart_count - 1, 10)), BACKOFF_MAX)


def is_sidecar(spec: PodSpec, name: str) -> bool:
    """Whether `name` is a restartable init container (a native sidecar)."""
    return any(c.name == name and c.restart_policy == "Always" for c in spec.init_containers)


def get_phase(pod: Pod, statuses: Sequence[ContainerStatus], terminal: bool) -> str:
    """The kubelet's phase computation (kubelet_pods.go getPhase, v1.28)."""
    spec = pod.spec
    by_name = {s.name: s for s in statuses}
    pending_init = failed_init = 0
    for c in spec.init_containers:
        if c.restart_policy == "Always":
            continue
        s = by_name.get(c.name)
        if s is None:
            pending_init += 1
        elif s.state.running is not None:
            pending_init += 1
        elif s.state.terminated is not None:
            if s.state.terminated.exit_code != 0:
                failed_init += 1
        elif s.state.waiting is not None:
            if s.last_state.terminated is not None:
                if s.last_state.terminated.exit_code != 0:
                    failed_init += 1
            else:
                pending_init += 1
        else:
            pending_init += 1
    unknown = running = waiting = stopped = succeeded = 0
    for c in spec.init_containers:
        if c.restart_policy != "Always":
            continue
        s = by_name.get(c.name)
        if s is None:
            unknown += 1
        elif s.state.running is not None:
            if not s.started:
                pending_init += 1
            running += 1
        elif s.state.terminated is not None:
            pass
        elif s.state.waiting is not None:
            if s.last_state.terminated is None:
                pending_init += 1
                waiting += 1
        else:
            pending_init += 1
            unknown += 1
    any_regular_started = False
    for c in spec.containers:
        s = by_name.get(c.name)
        if s is None:
            unknown += 1
            continue
        # kubecontainer.HasAnyRegularContainerStarted looks at the current state only
        # (running or terminated), not at lastTerminationState.
        if s.state.running is not None or s.state.terminated is not None:
            any_regular_started = True
        if s.state.running is not None:
            running += 1
        elif s.state.terminated is not None:
            stopped += 1
            if s.state.terminated.exit_code == 0:
                succeeded += 1
        elif s.state.waiting is not None:
            if s.last_state.terminated is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if failed_init > 0 and spec.restart_policy == "Never":
        return FAILED
    if (pending_init > 0 and not any_regular_started) or waiting > 0:
        return PENDING
    if running > 0 and unknown == 0:
        return RUNNING
    if running == 0 and stopped > 0 and unknown == 0:
        if terminal:
            return SUCCEEDED if stopped == succeeded else FAILED
        if spec.restart_policy == "Always":
            return RUNNING
        if stopped == succeeded:
            return SUCCEEDED
        if spec.restart_policy == "Never":
            return FAILED
        return RUNNING
    return PENDING


def next_phase(pod: Pod, statuses: Sequence[ContainerStatus], terminal: bool) -> str:
    """getPhase, never leaving a terminal phase (generateAPIPodStatus)."""
    if pod.status.phase in TERMINAL_PHASES:
        return pod.status.phase
    return get_phase(pod, statuses, terminal)


def _waiting(name: str, reason: str = "ContainerCreating", image: str = "") -> ContainerStatus:
    return ContainerStatus(name=name, ready=False, started=False, state=ContainerState(waiting=ContainerStateWaiting(reason=reason)), image=image)


def _ready_conditions(conds: tuple[Condition, ...], ready: bool, now: int) -> tuple[Condition, ...]:
    value = "True" if ready else "False"
    reason = "" if ready else "ContainersNotReady"
    conds = set_condition(conds, Condition("ContainersReady", value, reason=reason), now)
    return set_condition(conds, Condition("Ready", value, reason=reason), now)


def record_container_exit(pod: Pod, container: str, exit_code: int, now: int) -> Pod:
    """The status the kubelet posts when a running container exits with `exit_code`."""

    def exited(s: ContainerStatus) -> ContainerStatus:
        if s.name != container or s.state.running is None:
            return s
        started = s.state.running.started_at
        term = ContainerStateTerminated(exit_code=exit_code, reason="Completed" if exit_code == 0 else "Error", started_at=started, finished_at=now)
        return replace(s, ready=False, started=False, state=ContainerState(terminated=term))

    statuses = tuple(exited(s) for s in pod.status.container_statuses)
    init_statuses = tuple(exited(s) for s in pod.status.init_container_statuses)
    phase = next_phase(pod, statuses + init_statuses, terminal=False)
    conds = pod.status.conditions
    if find_condition(conds, "Ready") is not None:
        # status.GeneratePodReadyCondition: a container that is not running is not ready
        conds = _ready_conditions(conds, False, now)
    return replace(pod, status=replace(pod.status, container_statuses=statuses, init_container_statuses=init_statuses, phase=phase, conditions=conds))


class Kubelet:
    """The kubelets of all nodes, one pod (or node heartbeat) per action."""

    name = NAME

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """A heartbeat action per live node, a sync per pod bound to a live node."""
        down = state.env.down_nodes
        for node in state.nodes():
            if node.name in down:
                continue
            yield Reconcile(NAME, "", node.name)
            for pod in state.pods_on(node.name):
                yield Reconcile(NAME, pod.metadata.namespace, pod.metadata.name)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """The status update (or final delete) of one kubelet step."""
        assert isinstance(action, Reconcile)
        if not action.namespace:
            node = state.get("Node", "", action.name)
            if node is None or node.name in state.env.down_nodes or node.ready_status() == "True":
                return ()
            return (apiserver.Update(ready_node(node, state.clock), status=True),)
        pod = state.get("Pod", action.namespace, action.name)
        if pod is None or not pod.spec.node_name or pod.spec.node_name in state.env.down_nodes:
            return ()
        node = state.get("Node", "", pod.spec.node_name)
        if node is None:
            return ()
        return sync_pod(state, node, pod)

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """When back-off of an exited container that will restart ends."""
        for pod in state.pods():
            if pod.metadata.deletion_timestamp is not None or pod.terminal or not pod.spec.node_name:
                continue
            for s in pod.status.container_statuses + pod.status.init_container_statuses:
                t = _restart_time(pod, s)
                if t is not None and t > state.clock:
                    yield t


def regular_containers_done(pod: Pod) -> bool:
    """No regular container is running or will be (re)started: every one has terminated
    and the restart policy does not restart it (kuberuntime_manager.go computePodActions:
    keepCount == 0 and no ContainersToStart, which kills the pod, sidecars included, and
    does not restart restartable init containers)."""
    by_name = {s.name: s for s in pod.status.container_statuses}
    if not pod.spec.containers:
        return False
    for c in pod.spec.containers:
        s = by_name.get(c.name)
        if s is None or s.state.terminated is None or _should_restart(pod, s):
            return False
    return True


def _should_restart(pod: Pod, s: ContainerStatus) -> bool:
    term = s.state.terminated
    if term is None:
        return False
    if is_sidecar(pod.spec, s.name):
        # computePodActions: InitContainersToStart is cleared once the pod is to be killed
        return not regular_containers_done(pod)
    if any(c.name == s.name for c in pod.spec.init_containers):
        return term.exit_code != 0 and pod.spec.restart_policy != "Never"
    if pod.spec.restart_policy == "Always":
        return True
    return pod.spec.restart_policy == "OnFailure" and term.exit_code != 0


def _restart_time(pod: Pod, s: ContainerStatus) -> int | None:
    if not _should_restart(pod, s):
        return None
    term = s.state.terminated
    assert term is not None
    return (term.finished_at or 0) + restart_backoff(s.restart_count)


def _arrival(pod: Pod) -> tuple[int, int, str]:
    """When a pod reached its node's kubelet: its binding (PodScheduled), or its creation
    for pods created with nodeName set; ties broken by creation time and name."""
    c = find_condition(pod.status.conditions, "PodScheduled")
    created = pod.metadata.creation_timestamp or 0
    bound = c.last_transition_time if c is not None and c.status == "True" and c.last_transition_time is not None else created
    return (bound, created, pod.metadata.name)


def admission_failure(state: ClusterState, node: Node, pod: Pod) -> tuple[str, str] | None:
    """Why the kubelet would reject the pod (lifecycle/predicate.go), or None.

    generalFilter reports, in this order, insufficient resources (pods, cpu, memory,
    ephemeral-storage, then other resources; noderesources.Fits), NodeAffinity
    (nodeSelector and required affinity), NodeName, and untolerated NoExecute taints;
    Admit returns the first: reason OutOf<resource> or the predicate name.
    """
    from kmodel.scheduler import node_affinity_matches

    # HandlePodAdditions admits pods in the order they reached the kubelet: every active pod
    # already admitted, and every active pod bound to this node before this one, comes first.
    mine = _arrival(pod)
    admitted = [
        p
        for p in state.pods_on(node.name)
        if p.metadata.uid != pod.metadata.uid and not p.terminal and (find_condition(p.status.conditions, "Initialized") is not None or _arrival(p) < mine)
    ]
    alloc_pods = node.allocatable_of("pods") or 0
    if len(admitted) + 1 > alloc_pods:
        return "OutOfpods", f"Node didn't have enough resource: pods, requested: 1, used: {len(admitted)}, capacity: {alloc_pods}"
    used: dict[str, int] = {}
    for p in admitted:
        for r, v in pod_requests(p.spec).items():
            used[r] = used.get(r, 0) + v
    fixed = ("cpu", "memory", "ephemeral-storage")
    requests = pod_requests(pod.spec)
    for r in [*(x for x in fixed if x in requests), *sorted(x for x in requests if x not in fixed)]:
        v = requests[r]
        if v <= 0:
            continue
        alloc = node.allocatable_of(r) or 0
        if used.get(r, 0) + v > alloc:
            return f"OutOf{r}", f"Node didn't have enough resource: {r}, requested: {v}, used: {used.get(r, 0)}, capacity: {alloc}"
    if not node_affinity_matches(pod.spec, node):
        return "NodeAffinity", "Predicate NodeAffinity failed"
    if untolerated_taints(node.spec.taints, pod.spec.tolerations, frozenset({"NoExecute"})):
        return "TaintToleration", "Predicate TaintToleration failed"
    return None


def sync_pod(state: ClusterState, node: Node, pod: Pod) -> Sequence[apiserver.Request]:
    """The next kubelet step for `pod` on a live `node`."""
    now = state.clock
    st = pod.status
    if pod.metadata.deletion_timestamp is not None:
        return _terminate(pod, now)
    if pod.terminal:
        return ()
    if find_condition(st.conditions, "Initialized") is None:
        rejected = admission_failure(state, node, pod)
        if rejected is not None:
            reason, message = rejected
            return (apiserver.Update(replace(pod, status=replace(st, phase=FAILED, reason=reason, message=message)), status=True),)
        has_init = any(c.restart_policy != "Always" for c in pod.spec.init_containers) or bool(pod.spec.init_containers)
        initialized = Condition("Initialized", "False" if has_init else "True", reason="ContainersNotInitialized" if has_init else "")
        conds = set_condition(st.conditions, initialized, now)
        conds = _ready_conditions(conds, False, now)
        init_statuses = tuple(_waiting(c.name, "PodInitializing", c.image) for c in pod.spec.init_containers)
        statuses = tuple(_waiting(c.name, "PodInitializing" if has_init else "ContainerCreating", c.image) for c in pod.spec.containers)
        new = replace(
            pod, status=replace(st, conditions=conds, container_statuses=statuses, init_container_statuses=init_statuses, start_time=now, phase=PENDING)
        )
        return (apiserver.Update(new, status=True),)
    # restart exited containers whose back-off has elapsed
    for field_name in ("init_container_statuses", "container_statuses"):
        statuses = getattr(st, field_name)
        for i, s in enumerate(statuses):
            t = _restart_time(pod, s)
            if t is not None and now >= t:
                restarted = replace(
                    s,
                    ready=False,
                    started=True,
                    restart_count=s.restart_count + 1,
                    last_state=s.state,
                    state=ContainerState(running=ContainerStateRunning(started_at=now)),
                )
                new_statuses = statuses[:i] + (restarted,) + statuses[i + 1 :]
                new_st = replace(st, **{field_name: new_statuses})
                all_s = new_st.container_statuses + new_st.init_container_statuses
                new_st = replace(new_st, phase=next_phase(pod, all_s, False))
                return (apiserver.Update(replace(pod, status=new_st), status=True),)
    # computePodActions: once every regular container has exited for good the pod is
    # killed, so native sidecars still running are stopped (SIGTERM, modelled as exit 0)
    if any(s.state.running is not None and is_sidecar(pod.spec, s.name) for s in st.init_container_statuses) and regular_containers_done(pod):
        return (_stop_sidecars(pod, now),)
    # init containers, in order
    init_by_name = {s.name: s for s in st.init_container_statuses}
    for c in pod.spec.init_containers:
        s = init_by_name.get(c.name) or _waiting(c.name, "PodInitializing", c.image)
        sidecar = c.restart_policy == "Always"
        if s.state.waiting is not None and s.last_state.terminated is None:
            started = replace(s, started=not sidecar or True, state=ContainerState(running=ContainerStateRunning(started_at=now)))
            return (_with_init_status(pod, started, now),)
        if sidecar:
            if s.state.running is None:
                return ()  # waiting for its restart
            continue
        if s.state.running is not None:
            # a regular init container runs to completion (a failure is an ExitContainer fault)
            completed = ContainerStateTerminated(exit_code=0, reason="Completed", started_at=s.state.running.started_at, finished_at=now)
            done = replace(s, started=False, state=ContainerState(terminated=completed))
            return (_with_init_status(pod, done, now),)
        if s.state.terminated is not None and s.state.terminated.exit_code == 0:
            continue
        return ()  # failed init container: waiting for restart or the pod has failed
    if not condition_true(st.conditions, "Initialized"):
        conds = set_condition(st.conditions, Condition("Initialized", "True"), now)
        creating = ContainerState(waiting=ContainerStateWaiting("ContainerCreating"))
        statuses = tuple(replace(s, state=creating) if s.state.waiting else s for s in st.container_statuses)
        return (apiserver.Update(replace(pod, status=replace(st, conditions=conds, container_statuses=statuses)), status=True),)
    # start regular containers that have never run
    if any(s.state.waiting is not None and s.last_state.terminated is None for s in st.container_statuses):
        statuses = tuple(
            replace(s, started=True, state=ContainerState(running=ContainerStateRunning(started_at=now)))
            if s.state.waiting is not None and s.last_state.terminated is None
            else s
            for s in st.container_statuses
        )
        new_st = replace(st, container_statuses=statuses)
        new_st = replace(new_st, phase=next_phase(pod, statuses + st.init_container_statuses, False))
        return (apiserver.Update(replace(pod, status=new_st), status=True),)
    # readiness: every running container passes its probe
    running = [s for s in st.container_statuses + st.init_container_statuses if s.state.running is not None]
    all_running = all(s.state.running is not None for s in st.container_statuses) and all(
        s.state.running is not None for s in st.init_container_statuses if is_sidecar(pod.spec, s.name)
    )
    if all_running and (any(not s.ready for s in running) or not condition_true(st.conditions, "Ready")):
        statuses = tuple(replace(s, ready=True) if s.state.running is not None else s for s in st.container_statuses)
        init_statuses = tuple(replace(s, ready=True) if s.state.running is not None else s for s in st.init_container_statuses)
        conds = _ready_conditions(st.conditions, True, now)
        new_st = replace(st, container_statuses=statuses, init_container_statuses=init_statuses, conditions=conds)
        return (apiserver.Update(replace(pod, status=new_st), status=True),)
    return ()


def _stop_sidecars(pod: Pod, now: int) -> apiserver.Update:
    """The status after the kubelet kills the running sidecars of a pod whose regular
    containers are done; the phase follows from the regular containers (getPhase ignores
    terminated restartable init containers)."""
    st = pod.status

    def stop(s: ContainerStatus) -> ContainerStatus:
        if s.state.running is None or not is_sidecar(pod.spec, s.name):
            return s
        term = ContainerStateTerminated(exit_code=0, reason="Completed", started_at=s.state.running.started_at, finished_at=now)
        return replace(s, ready=False, started=False, state=ContainerState(terminated=term))

    init_statuses = tuple(stop(s) for s in st.init_container_statuses)
    new_st = replace(st, init_container_statuses=init_statuses)
    new_st = replace(new_st, phase=next_phase(pod, st.container_statuses + init_statuses, False))
    return apiserver.Update(replace(pod, status=new_st), status=True)


def _with_init_status(pod: Pod, s: ContainerStatus, now: int) -> apiserver.Update:
    st = pod.status
    others = tuple(x for x in st.init_container_statuses if x.name != s.name)
    order = [c.name for c in pod.spec.init_containers]
    init_statuses = tuple(sorted(others + (s,), key=lambda x: order.index(x.name) if x.name in order else len(order)))
    new_st = replace(st, init_container_statuses=init_statuses)
    new_st = replace(new_st, phase=next_phase(pod, new_st.container_statuses + init_statuses, False))
    return apiserver.Update(replace(pod, status=new_st), status=True)


def _terminate(pod: Pod, now: int) -> Sequence[apiserver.Request]:
    st = pod.status
    all_statuses = st.container_statuses + st.init_container_statuses
    if pod.terminal and all(s.state.terminated is not None or s.state.running is None for s in all_statuses):
        # containers gone: the kubelet's status manager issues the final delete (grace 0)
        return (apiserver.Delete(pod.ref, uid=pod.metadata.uid, grace_period=0),)

    def stop(s: ContainerStatus) -> ContainerStatus:
        if s.state.terminated is not None:
            return replace(s, ready=False)
        if s.state.running is not None:
            term = ContainerStateTerminated(exit_code=0, reason="Completed", started_at=s.state.running.started_at, finished_at=now)
        else:
            term = ContainerStateTerminated(
                exit_code=137, reason="ContainerStatusUnknown", message="The container could not be located when the pod was terminated", finished_at=now
            )
        return replace(s, ready=False, started=False, state=ContainerState(terminated=term))

    statuses = tuple(stop(s) for s in st.container_statuses)
    if not statuses:
        statuses = tuple(stop(_waiting(c.name)) for c in pod.spec.containers)
    init_statuses = tuple(stop(s) for s in st.init_container_statuses)
    phase = next_phase(pod, statuses + init_statuses, terminal=True)
    if phase not in TERMINAL_PHASES:
        # status_manager.go TerminatePod: a Pending or Running pod is marked Failed
        phase = FAILED
    conds = _ready_conditions(st.conditions, False, now) if st.conditions else st.conditions
    new = replace(pod, status=replace(st, container_statuses=statuses, init_container_statuses=init_statuses, phase=phase, conditions=conds))
    return (apiserver.Update(new, status=True),)
