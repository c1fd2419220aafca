"""One codemod per fixable rule; each plans its fix and says how safe it is."""

from .coroutine import AwaitInExecutor
from .event import BusyWaitToEvent
from .offload import OffloadToProcessPool
from .picklable import ModuleLevelFunction
from .pools import ThreadPoolMapToProcessPool, ThreadPoolToProcessPool

ALL = (ThreadPoolToProcessPool, BusyWaitToEvent, ThreadPoolMapToProcessPool, ModuleLevelFunction, AwaitInExecutor,
       OffloadToProcessPool)
