"""The fixed Fashion-MNIST CNN (float) and its training loop."""
import math
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class FloatNet(nn.Module):
    """conv1 1->32 3x3 pad 1 + BN + ReLU + maxpool 2; conv2 32->64 + BN + ReLU + maxpool 2;
    fc1 3136->128 + BN1d + ReLU; fc2 128->10. Input: raw pixels 0..255 as floats (scaled by
    1/255 inside, which folds into conv1's input scale at export)."""

    def __init__(self, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        # The fc layers are convolutions covering their whole input (a 7x7 kernel on 64x7x7, a
        # 1x1 kernel on 128x1x1): the same weights in CHW order as nn.Linear on the flattened
        # tensor, but computed by oneDNN instead of the (reference) BLAS that Debian's torch uses.
        self.fc1 = nn.Conv2d(64, 128, 7, bias=False)
        self.bn3 = nn.BatchNorm2d(128)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Conv2d(128, 10, 1)

    def forward(self, x):
        x = x * (1.0 / 255.0)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.fc1(x)))
        return self.fc2(self.drop(x)).flatten(1)


def log(*a):
    """A progress line of the training scripts, flushed at once."""
    print(*a, flush=True)


def seed_all(seed):
    """Seeds Python's, NumPy's and torch's generators: a training run is repeatable from its seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def augment(x, gen):
    """Random horizontal flip and random shift by up to 2 pixels (zero fill), on a batch of
    raw-pixel float images [B,1,28,28]."""
    B = x.shape[0]
    flip = torch.rand(B, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = F.pad(x, (2, 2, 2, 2))
    dy = torch.randint(0, 5, (B,), generator=gen)
    dx = torch.randint(0, 5, (B,), generator=gen)
    idx_y = (dy[:, None] + torch.arange(28)[None, :])  # B, 28
    idx_x = (dx[:, None] + torch.arange(28)[None, :])
    rows = pad[torch.arange(B)[:, None], :, idx_y, :]          # B, 28, 1, 32
    rows = rows.permute(0, 2, 1, 3)                           # B, 1, 28, 32
    out = torch.gather(rows, 3, idx_x[:, None, None, :].expand(B, 1, 28, 28))
    return out


def batches(n, batch_size, gen):
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, batch_size):
        yield perm[i:i + batch_size]


def train(net, images, labels, *, epochs, lr, batch_size=128, weight_decay=5e-4, seed=0, aug=True,
          log=print, epoch_hook=None, step_hook=None, label_smoothing=0.0, warmup_frac=0.0, teacher=None,
          kd_weight=0.5, kd_temperature=2.0):
    """SGD (Nesterov momentum) with a cosine learning rate; deterministic order from `seed`.
    Weight decay applies to the weight tensors only (not to BN, biases or quantizer steps).
    epoch_hook(epoch) runs before each epoch, step_hook(progress in [0, 1)) before each step.
    With a teacher network the loss mixes in its softened outputs (knowledge distillation)."""
    gen = torch.Generator().manual_seed(seed)
    x_all = torch.as_tensor(images).float()
    y_all = torch.as_tensor(labels)
    n = x_all.shape[0]
    named = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    decay = [p for n, p in named if n.endswith("weight") and p.ndim > 1]
    no_decay = [p for n, p in named if not (n.endswith("weight") and p.ndim > 1)]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=0.9, nesterov=True)
    steps_per_epoch = math.ceil(n / batch_size)
    total = max(1, epochs * steps_per_epoch)
    warm = int(total * warmup_frac)

    def lr_at(step):
        if step < warm:
            return lr * (step + 1) / warm
        return 0.5 * lr * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    step = 0
    for epoch in range(epochs):
        if epoch_hook:
            epoch_hook(epoch)
        net.train()
        t0, seen, loss_sum, correct = time.time(), 0, 0.0, 0
        for idx in batches(n, batch_size, gen):
            xb, yb = x_all[idx], y_all[idx]
            if aug:
                xb = augment(xb, gen)
            for gparam in opt.param_groups:
                gparam["lr"] = lr_at(step)
            if step_hook:
                step_hook(step / total)
            out = net(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=label_smoothing)
            if teacher is not None:
                with torch.no_grad():
                    soft = F.softmax(teacher(xb) / kd_temperature, dim=1)
                kd = F.kl_div(F.log_softmax(out / kd_temperature, dim=1), soft, reduction="batchmean")
                loss = (1 - kd_weight) * loss + kd_weight * kd_temperature ** 2 * kd
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        log(f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / seen:.4f} train acc {correct / seen:.4f} "
            f"({time.time() - t0:.0f} s)")
    net.eval()
    return net


@torch.no_grad()
def evaluate(net, images, labels, batch_size=500):
    net.eval()
    correct = 0
    for i in range(0, len(images), batch_size):
        out = net(torch.as_tensor(images[i:i + batch_size]).float())
        correct += (out.argmax(1) == torch.as_tensor(labels[i:i + batch_size])).sum().item()
    return correct / len(images)
