"""The studio's network and training settings as a PyTorch script a student can run as it is.

Each layer is written as the module ``models.build_model`` builds (its ``repr`` is valid Python), so the
script's network is the app's network; FashionMNIST's normalisation moves from the model into the data
transform. Run plainly, the script prints each layer's output shape for a batch of zeros (no download,
no training); with ``--train`` it downloads FashionMNIST with torchvision and trains in a loop everyone
recognises (pytorch/examples' mnist).
"""

from __future__ import annotations

from playground.explorer.code import IMPORTS
from playground.train.loop import TrainConfig
from playground.train.models import MEAN, STD, build_model, with_dropout

FILE_NAME = "cnn_playground_network.py"
OPTIMIZER_CODE = {
    "adamw": "torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)",
    "adam": "torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)",
    "sgd_momentum": "torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=WEIGHT_DECAY)",
    "sgd": "torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)",
}  # as playground.train.loop._optimizer makes them (a test checks)

_TRAIN = '''
def train(data_dir: str) -> None:
    """Train on FashionMNIST (downloaded by torchvision into data_dir) and report the test accuracy per epoch."""
    from torchvision import datasets, transforms

    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    train_set = datasets.FashionMNIST(data_dir, train=True, download=True, transform=to_input)
    test_set = datasets.FashionMNIST(data_dir, train=False, download=True, transform=to_input)
    if TRAIN_SIZE is not None:  # a random subset (the studio's is balanced across the classes)
        train_set = torch.utils.data.Subset(train_set, torch.randperm(len(train_set))[:TRAIN_SIZE].tolist())
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=1000)
    optimizer = {optimizer}
    scheduler = {scheduler}
    for epoch in range(EPOCHS):
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), labels)
            if L1:
                loss = loss + L1 * sum(p.abs().sum() for p in model.parameters())
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (model(images).argmax(1) == labels).sum().item()
        print(f"epoch {{epoch + 1}}: loss {{loss.item():.3f}}, test accuracy {{correct / len(test_set):.2%}}")


def shapes() -> None:
    """Each layer's output shape for one image of zeros (a batch of one)."""
    x = torch.zeros(1, 1, 28, 28)
    print(f"input: {{tuple(x.shape[1:])}}")
    model.eval()
    with torch.no_grad():
        for i, layer in enumerate(model):
            x = layer(x)
            print(f"{{i}}: {{type(layer).__name__}} {{tuple(x.shape[1:])}}")


parser = argparse.ArgumentParser()
parser.add_argument("--train", action="store_true", help="download FashionMNIST and train (default: print shapes)")
parser.add_argument("--data", default="data", help="where torchvision keeps FashionMNIST (default: ./data)")
args = parser.parse_args()
if args.train:
    train(args.data)
else:
    shapes()
'''


def network_code(spec: dict, config: TrainConfig | None = None) -> str:
    """A runnable script for ``spec`` trained with ``config`` (the engine's defaults when None).

    Raises:
        SpecError: the spec cannot be built (as ``build_model`` raises it).
    """
    config = config or TrainConfig()
    spec = with_dropout(spec, config.dropout)
    model = build_model(spec)
    layers = [f"    nn.{module!r}," for name, module in model.named_children() if name != "normalize"]
    scheduler = ("torch.optim.lr_scheduler.OneCycleLR(optimizer, LR, total_steps=EPOCHS * len(train_loader))"
                 if config.schedule == "onecycle" else "None")  # fmt: skip
    left_out = [f"augmentation ({config.augment})" if config.augment != "none" else "",
                f"{config.precision} arithmetic" if config.precision == "bfloat16" else ""]  # fmt: skip
    left_out = [x for x in left_out if x]
    name = spec.get("name", "network")
    lines = [
        f'"""{name}: a CNN from CNN Playground\'s Training studio, with its training settings.',
        "",
        f"python {FILE_NAME}          prints each layer's output shape for a batch of zeros (no download)",
        f"python {FILE_NAME} --train  downloads FashionMNIST with torchvision and trains (--data DIR: ./data)",
        '"""',
        "",
        *IMPORTS,
        "",
        f"MEAN, STD = {MEAN!r}, {STD!r}  # FashionMNIST's pixel statistics (the studio normalises inside its model)",
        f"LR = {config.lr!r}",
        f"WEIGHT_DECAY = {config.weight_decay!r}",
        f"L1 = {config.l1!r}",
        f"BATCH_SIZE = {config.batch_size!r}",
        f"EPOCHS = {config.epochs!r}",
        f"TRAIN_SIZE = {config.train_size!r}  # None: all 60,000 training images",
        f"SEED = {config.seed!r}",
    ]
    if left_out:
        lines.append(f"# The studio also used {' and '.join(left_out)}: not part of this short loop.")
    lines += [
        "",
        "torch.manual_seed(SEED)",
        "model = nn.Sequential(",
        *layers,
        ")",
        "",
        _TRAIN.format(optimizer=OPTIMIZER_CODE[config.optimizer], scheduler=scheduler),
    ]
    return "\n".join(lines)
