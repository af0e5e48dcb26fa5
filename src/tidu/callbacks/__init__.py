"""Callbacks: code that ``Model.fit`` calls at the start and end of training, epochs and batches.

``History`` and the progress bar are added by ``fit`` itself; the others are the user's choice.
"""

from .backup_and_restore import BackupAndRestore
from .callback import Callback, CallbackList, History, LambdaCallback
from .csv_logger import CSVLogger
from .diagnostics import Diagnostics
from .early_stopping import EarlyStopping
from .model_checkpoint import ModelCheckpoint
from .progress import ProgbarLogger
from .reduce_lr import ReduceLROnPlateau
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore", "Callback", "CallbackList", "CSVLogger", "Diagnostics", "EarlyStopping",
    "History",
    "LambdaCallback", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard",
    "TerminateOnNaN",
]
