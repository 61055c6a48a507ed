"""Objects the model carries without workload semantics (ConfigMaps, Secrets, Services,
custom resources): metadata is modelled (ownership, finalizers, deletion), the rest is opaque."""

from __future__ import annotations

from dataclasses import dataclass, field

from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import ObjectMeta, ObjRef


@dataclass(frozen=True, slots=True)
class GenericObject:
    """An object of any kind whose body (everything but metadata) is carried verbatim."""

    kind: str
    api_version: str
    metadata: ObjectMeta
    body: FrozenDict[str, object] = EMPTY
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)
