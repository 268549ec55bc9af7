"""The same full-batch step in PyTorch on the CPU, written by hand (no autograd).

The equations of solutions/backprop.py with torch tensors, float32 (PyTorch's
default dtype), the whole batch at once, the way a PyTorch user would write
them: matmuls, torch.softmax (numerically stable), a one-hot matrix from
torch.nn.functional.one_hot. Gradients are computed by hand, not by autograd,
so both libraries do the same arithmetic; torch.inference_mode() turns off
autograd's bookkeeping.

Imported only when torch is installed (`pip install -e ".[torch]"`); the kit
never needs it.
"""

import numpy as np
import torch


def to_tensors(params, X: np.ndarray, Y: np.ndarray):
    """float32 tensors of the parameters and X (copied once, like the fast reference's X)."""
    tensors = tuple(torch.tensor(p, dtype=torch.float32) for p in params)
    return tensors, torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.int64)


@torch.inference_mode()
def iteration(params, X: torch.Tensor, Y: torch.Tensor, alpha: float):
    """One full-batch step: forward, backward by hand, update. Returns the new parameters."""
    W1, b1, W2, b2 = params
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = torch.relu(Z1)
    Z2 = W2 @ A1 + b2
    A2 = torch.softmax(Z2, dim=0)
    dZ2 = A2 - torch.nn.functional.one_hot(Y, num_classes=A2.shape[0]).T
    dW2 = dZ2 @ A1.T / m
    db2 = dZ2.sum(dim=1, keepdim=True) / m
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(dim=1, keepdim=True) / m
    return W1 - alpha * dW1, b1 - alpha * db1, W2 - alpha * dW2, b2 - alpha * db2
