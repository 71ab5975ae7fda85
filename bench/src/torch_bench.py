"""PyTorch's side of bench/README.md's workloads, run by src/main.ts when Debian's python3-torch
is installed (optional, never in CI). One workload per call; prints one JSON line (the fields of
util.ts's Result, peak resident memory included).

  /usr/bin/python3 torch_bench.py WORKLOAD THREADS EPOCHS DATA_DIR

DATA_DIR holds MNIST as main.ts wrote it: {train,test}-x.f32 (n×784 in [0, 1]) and {train,test}-y.u8."""
import json, resource, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

workload, threads, epochs, data_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
torch.manual_seed(1)


def mnist(split):
    x = torch.from_numpy(np.fromfile(f"{data_dir}/{split}-x.f32", dtype=np.float32).reshape(-1, 784))
    y = torch.from_numpy(np.fromfile(f"{data_dir}/{split}-y.u8", dtype=np.uint8).astype(np.int64))
    return x, y


def train_epochs(model, opt, loss_fn, x, y, batch, epochs):
    n = x.shape[0]
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n - batch + 1, batch):
            i = perm[s:s + batch]
            opt.zero_grad()
            loss_fn(model(x[i]), y[i]).backward()
            opt.step()
    return epochs * (n // batch) * batch / (time.perf_counter() - t0)


def gemm(n, ta, tb):
    g = torch.Generator().manual_seed(n)
    a = torch.rand(n, n, generator=g) * 2 - 1
    b = torch.rand(n, n, generator=g) * 2 - 1
    f = lambda: ((a.t() if ta else a) @ (b.t() if tb else b)).contiguous()
    f(); f()
    ts = []
    for _ in range(11):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return 2 * n ** 3 / sorted(ts)[5] / 1e9


out = {}
if workload == "w1":
    cases = [(256, False, False), (512, False, False), (1024, False, False), (512, False, True), (512, True, False)]
    out["gflops"] = {f"{'Aᵀ' if ta else 'A'}·{'Bᵀ' if tb else 'B'} {n}": gemm(n, ta, tb) for n, ta, tb in cases}
elif workload == "w2":
    x, y = mnist("train"); tx, ty = mnist("test")
    m = nn.Sequential(nn.Linear(784, 256), nn.Tanh(), nn.Linear(256, 10))
    out["samplesPerSecond"] = train_epochs(m, torch.optim.SGD(m.parameters(), lr=0.1), F.cross_entropy, x, y, 64, epochs)
    with torch.no_grad(): out["accuracy"] = (m(tx).argmax(1) == ty).float().mean().item()
elif workload == "w3":
    x, _ = mnist("train"); tx, _ = mnist("test")
    w = [784, 128, 32, 128, 784]
    layers = []
    for i in range(4): layers += [nn.Linear(w[i], w[i + 1]), nn.Tanh() if i < 3 else nn.Sigmoid()]
    m = nn.Sequential(*layers)
    out["samplesPerSecond"] = train_epochs(m, torch.optim.Adam(m.parameters(), lr=1e-3), F.binary_cross_entropy, x, x, 128, 1)
    with torch.no_grad(): out["bce"] = F.binary_cross_entropy(m(tx), tx).item()
elif workload == "w4":
    x, y = mnist("train"); tx, ty = mnist("test")
    x = x.reshape(-1, 1, 28, 28); tx = tx.reshape(-1, 1, 28, 28)
    m = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10))
    out["samplesPerSecond"] = train_epochs(m, torch.optim.SGD(m.parameters(), lr=0.05), F.cross_entropy, x, y, 64, epochs)
    with torch.no_grad(): out["accuracy"] = (m(tx).argmax(1) == ty).float().mean().item()
elif workload == "w5":
    m = nn.Sequential(nn.Linear(784, 4096), nn.Tanh(), nn.Linear(4096, 4096), nn.Tanh(), nn.Linear(4096, 10))
    opt = torch.optim.SGD(m.parameters(), lr=0.05)
    x = torch.rand(1024, 784); y = torch.randint(0, 10, (1024,))
    def step():
        opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
    step()
    t0 = time.perf_counter()
    for _ in range(3): step()
    s = time.perf_counter() - t0
    out = {"samplesPerSecond": 3 * 1024 / s, "gflops": {"MLP step": 3 * 1024 * 6 * (784 * 4096 + 4096 * 4096 + 4096 * 10) / s / 1e9}, "batches": 3}
out["peakRssMB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
