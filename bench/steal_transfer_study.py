"""What closes the gap between PGD transferred from a stolen copy and white-box PGD on the
victim (issue 14): the study behind README's "Stealing" numbers. One thread throughout.

The thief: 5,000 label-only queries (bundled mnist-standard through the Oracle) on the first
5,000 MNIST training images, unlabelled. Each copy is trained by the project's trainer
(``train_substitute``, the path ``visualizer steal --copy`` uses) on those answers; ``--shifts
K`` adds K randomly shifted (up to 2 px) copies of every answered image with the same answer,
``--adversarial R`` trains with the trainer's recipe R (a slightly robust copy), ``--pseudo N``
adds the next N unlabelled training images labelled by ``--teacher`` copies (no extra query
for any of them). ``--seed S`` is the thief's, as ``visualizer steal``'s: the trainer gets
``thief_seed(S)``, never the victim's seed 0 (numbers measured before that, README, were with
trainer seed S). Each attack variant is
the project's PGD (``run_attack``), L-inf 0.2, 20 steps unless given, on the first N test
images the victim classifies correctly, crafted on one copy or on the mean logits of several.

    python bench/steal_transfer_study.py copy long16 --epochs 16
    python bench/steal_transfer_study.py copy aug3x4 --shifts 3 --epochs 4
    python bench/steal_transfer_study.py copy rob-l2-1.0 --epochs 16 --adversarial pgd:l2:1.0:1
    python bench/steal_transfer_study.py copy rob-l2-2.0 --epochs 16 --adversarial pgd:l2:2.0:1
    python bench/steal_transfer_study.py copy rob-l2-0.5 --epochs 16 --adversarial pgd:l2:0.5:1   (also 0.25)
    python bench/steal_transfer_study.py copy rob-l2-0.5-s1 --seed 1 --epochs 16 --adversarial pgd:l2:0.5:1
    python bench/steal_transfer_study.py copy robaug --shifts 3 --epochs 4 --adversarial pgd:l2:1.0:1
    python bench/steal_transfer_study.py copy pseudo15k --pseudo 15000 --teacher long16 --epochs 4
    python bench/steal_transfer_study.py --arch mnist-cnn-wide copy wide16-s1 --epochs 16 --seed 1
    python bench/steal_transfer_study.py copy sam0.05 --epochs 16 --sam 0.05   (SAM, Foret et al. 2021)
    python bench/steal_transfer_study.py lgv lgv-l16 long16 --lr 0.05 --count 20 --epochs 5
    python bench/steal_transfer_study.py measure --limit 200 lgv-l16 "" cycle=1
    python bench/steal_transfer_study.py active active-m --start 1000 --rounds 4   (uncertainty sampling)
    python bench/steal_transfer_study.py copy act-long16 --active active-m --epochs 16
    python bench/steal_transfer_study.py copy full60k --queries 60000 --epochs 3 --seed 7   (a larger budget)
    python bench/steal_transfer_study.py copy elastic3x4 --epochs 4 --warps 3 --degrees 10 --scale 0.1 \
                                         --shift 2 --elastic 1.5 --seed 1
    python bench/steal_transfer_study.py measure --limit 200 rob-l2-0.5+aug3x4 "" steps=50 pick=4
    python bench/steal_transfer_study.py measure --limit 200 long16+aug3x4 "" "loss=margin,momentum=1.0"

``active TAG`` chooses the 5,000 queries as ``visualizer steal --query-select uncertainty``
does (the first ``--start`` in order, then ``--rounds`` rounds, each asking the pool images a
copy of the answers so far is least sure of; here each round's copy trains ``--epochs`` 8 on
its own, the CLI reuses the substitute of the query count before); ``copy --active TAG``
trains on them.

``lgv TAG BASE`` is LGV (Gubri et al. 2022, ``core/stealing/lgv.py``): from the trained copy
BASE, constant-lr SGD (momentum 0.9) on the same answers, ``--count`` weight snapshots kept
in TAG/w00, w01, ... (and their mean weights, LGV-SWA, in TAG-swa). In ``measure`` such a
folder is one member of the ensemble, the mean of its snapshots' logits (``TAG:I:J`` keeps
snapshots I to J-1).

A variant is comma-separated AttackParams fields (``steps=50``, ``loss=margin``,
``kappa=10.0``, ``momentum=1.0``, ``diversity=0.5``); "" is plain PGD. ``cycle=1`` crafts on
one snapshot or copy per PGD step in turn (LGV's attack) instead of their mean. ``pick=R`` runs
R random starts and keeps, per image, the one whose weakest copy is fooled by the widest
logit margin.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from visualizer.core.attacks.loop import run_attack  # noqa: E402
from visualizer.core.attacks.params import AttackParams  # noqa: E402
from visualizer.core.data import load_dataset  # noqa: E402
from visualizer.core.evaluation.relations import wilson_interval  # noqa: E402
from visualizer.core.models.registry import LoadOptions, load_model  # noqa: E402
from visualizer.core.stealing.augment import Warp  # noqa: E402

MNIST = "mnist:" + str(ROOT.parent / "shared" / "data" / "mnist")
QUERIES = 5000


def _victim_and_test(limit: int):
    victim = load_model("mnist-standard", LoadOptions(device="cpu"))
    test = load_dataset(MNIST, "test", preprocessing=victim.info.preprocessing,
                        class_names=victim.info.class_names, limit=limit)
    return victim, test


def _answers(args, victim):
    """The thief's 5,000 query images (N x 1 x 28 x 28) and the oracle's label answers (N)."""
    from visualizer.core.blackbox import Oracle
    from visualizer.core.stealing import queries as q

    count = getattr(args, "queries", QUERIES)
    images = q.data_queries(MNIST, count, victim.info.preprocessing)
    saved = Path(args.dir) / ("answers.pt" if count == QUERIES else f"answers-{count}.pt")
    if getattr(args, "answers", None):
        # The queries and answers a `visualizer steal` run bought (e.g. with --adversarial-queries).
        from visualizer.core.stealing.store import STATE_DIR
        from safetensors.torch import load_file

        tensors = load_file(str(Path(args.answers) / STATE_DIR / "defence-none.safetensors"))
        return tensors["images"], tensors["answers"]
    if getattr(args, "active", None):
        chosen = torch.load(Path(args.dir) / f"{args.active}.pt")
        return chosen["images"], chosen["answers"]
    if saved.is_file():
        return images, torch.load(saved)
    oracle = Oracle(victim, spec="label", budget=count)
    answers = torch.cat([oracle(images[i:i + 500]).cpu() for i in range(0, count, 500)])
    saved.parent.mkdir(parents=True, exist_ok=True)
    torch.save(answers, saved)
    return images, answers


def make_copy(args) -> None:
    from visualizer.core.stealing import queries as q
    from visualizer.core.stealing.substitute import train_substitute

    victim, test = _victim_and_test(1000)
    images, answers = _answers(args, victim)
    if args.pseudo:
        # Semi-supervised (pseudo-labelling, Lee 2013; for extraction, Jagielski et al. 2020): the
        # next unlabelled images, labelled by the thief's own teacher copies (no oracle query).
        extra = q.data_queries(MNIST, QUERIES + args.pseudo, victim.info.preprocessing)[QUERIES:]
        teacher = _load(Path(args.dir), args.teacher.split("+"), args.arch)
        with torch.no_grad():
            labels = torch.cat([teacher(extra[i:i + 500]).argmax(1) for i in range(0, len(extra), 500)])
        images, answers = torch.cat([images, extra]), torch.cat([answers, labels])
    started = time.time()
    card = train_substitute(images, answers, test, list(victim.info.class_names), args.arch,
                            Path(args.dir) / args.tag, "mnist train images", args.epochs, args.seed, 64, 1e-3,
                            adversarial=args.adversarial, shifts=args.shifts, sam=args.sam, warps=args.warps,
                            warp=Warp(args.degrees, args.scale, args.shift, args.elastic))
    print(json.dumps({"copy": args.tag, "seconds": round(time.time() - started), "card": card.get("metrics")}))


def _members(folder: Path, copy: str, arch: str) -> list:
    """A copy's loaded network(s); its architecture is the one its model card names (copies
    trained with another ``--arch`` mix in), ``arch`` when it has none. A copy folder without
    weights stands for its weight snapshots (``lgv``: its sub-folders w00, w01, ...);
    ``NAME:I:J[:K]`` keeps snapshots I to J-1 (every K-th)."""
    def arch_of(path: Path) -> str:
        card = path / "model.json"
        return json.loads(card.read_text()).get("architecture", arch) if card.is_file() else arch

    name, _, cut = copy.partition(":")
    path = folder / name
    paths = [path] if (path / "model.safetensors").is_file() else sorted(
        p.parent for p in path.glob("w*/model.safetensors"))
    paths = paths[slice(*[int(v) if v else None for v in cut.split(":")])] if cut else paths
    return [load_model(f"ckpt:{p / 'model.safetensors'}",
                       LoadOptions(arch=arch_of(p), labels=str(p / "labels.txt"), device="cpu")) for p in paths]


def _load(folder: Path, copies: list[str], arch: str, cycle: bool = False):
    """One trained copy, or the mean logits of several, each set of snapshots (``lgv``) counting
    as one copy through its snapshots' mean; ``cycle``: every snapshot and copy in turn, one per
    gradient step (LGV's attack), the mean of all when scoring."""
    from visualizer.core.stealing.lgv import CycleMembers, MeanLogits

    groups = [_members(folder, c, arch) for c in copies]
    if cycle:
        return CycleMembers([m for g in groups for m in g])
    members = [g[0] if len(g) == 1 else MeanLogits(g) for g in groups]
    return members[0] if len(members) == 1 else MeanLogits(members)


def make_active(args) -> None:
    """Active query selection (uncertainty sampling; Pal et al. 2020's ActiveThief): the same
    5,000 label-only queries, but only the first ``--start`` are the pool's first images; each
    later round trains a copy on the answers so far and asks about the pool images (MNIST's
    training images, unlabelled) on which it is least sure (smallest top-2 softmax margin),
    ``--random`` of each round's share drawn at random instead. Saves DIR/TAG.pt (images,
    answers, the round each was asked in)."""
    import tempfile

    from visualizer.core.blackbox import Oracle
    from visualizer.core.stealing import queries as q
    from visualizer.core.stealing.select import least_sure, top2_margin
    from visualizer.core.stealing.substitute import train_substitute

    victim, test = _victim_and_test(1000)
    pool = q.data_queries(MNIST, args.pool, victim.info.preprocessing)
    oracle = Oracle(victim, spec="label", budget=QUERIES)
    asked = torch.zeros(len(pool), dtype=torch.bool)
    asked[:args.start] = True
    answers = {i: a for i, a in zip(range(args.start), oracle(pool[:args.start]).cpu().tolist())}
    rounds = {i: 0 for i in range(args.start)}
    per_round = (QUERIES - args.start) // args.rounds
    gen = torch.Generator().manual_seed(args.seed)
    for r in range(1, args.rounds + 1):
        index = torch.tensor(sorted(answers))
        with tempfile.TemporaryDirectory() as tmp:
            train_substitute(pool[index], torch.tensor([answers[i] for i in index.tolist()]), test,
                             list(victim.info.class_names), args.arch, Path(tmp) / "copy", "mnist train images",
                             args.epochs, args.seed + 100 + r, 64, 1e-3)
            copy = _members(Path(tmp), "copy", args.arch)[0]
            count = per_round if r < args.rounds else QUERIES - len(answers)
            randoms = int(round(count * args.random))
            uncertain = least_sure(copy, pool, asked, count - randoms)
            margin = top2_margin(copy, pool[uncertain])
        asked[uncertain] = True
        free = (~asked).nonzero().squeeze(1)
        chosen = torch.cat([uncertain, free[torch.randperm(len(free), generator=gen)[:randoms]]])
        asked[chosen] = True
        for i, a in zip(chosen.tolist(), oracle(pool[chosen]).cpu().tolist()):
            answers[i], rounds[i] = a, r
        print(json.dumps({"round": r, "asked": len(answers), "queries": oracle.queries,
                          "chosen_margin_median": round(margin.median().item(), 4)}), flush=True)
    index = torch.tensor(sorted(answers))
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    torch.save({"images": pool[index], "answers": torch.tensor([answers[i] for i in index.tolist()]),
                "rounds": torch.tensor([rounds[i] for i in index.tolist()]), "pool_index": index},
               Path(args.dir) / f"{args.tag}.pt")


def make_lgv(args) -> None:
    """LGV (Gubri et al. 2022): snapshots of constant-lr SGD from a trained copy, on its answers."""
    from safetensors.torch import load_file

    from visualizer.core.models.arch import resolve_arch
    from visualizer.core.stealing.lgv import collect_lgv
    from visualizer.core.stealing.substitute import shifted_copies, thief_seed
    from visualizer.core.training import outputs
    from visualizer.core.training.network import build_network

    victim, test = _victim_and_test(1000)
    images, answers = _answers(args, victim)
    base = Path(args.dir) / args.base
    arch = json.loads((base / "model.json").read_text()).get("architecture", args.arch)
    seed = thief_seed(args.seed)
    if args.shifts:
        images, answers = shifted_copies(images, args.shifts, seed), torch.cat([answers] * (args.shifts + 1))
    net = build_network(resolve_arch(arch), 10, seed)
    net.net.load_state_dict(load_file(str(base / "model.safetensors")))
    started = time.time()
    snaps = collect_lgv(net, images, answers, args.count, args.epochs, args.lr, seed, batch_size=64,
                        sam_rho=args.sam)
    x, y = test.batch(torch.arange(len(test)))
    accs = []
    for i, state in enumerate(snaps):
        out = Path(args.dir) / args.tag / f"w{i:02d}"
        out.mkdir(parents=True, exist_ok=True)
        outputs.save_state(out, {k[len("net."):]: v for k, v in state.items() if k.startswith("net.")})
        (out / "labels.txt").write_text((base / "labels.txt").read_text())
        (out / "model.json").write_text(json.dumps({"architecture": arch, "lgv_of": args.base, "snapshot": i}))
        net.load_state_dict(state)
        with torch.no_grad():
            accs.append(round((net(x).argmax(1) == y).float().mean().item(), 3))
    # LGV-SWA (the paper's section 5): the snapshots' mean weights, one network, beside them.
    swa = {k: torch.stack([s[k].float() for s in snaps]).mean(0) for k in snaps[0]}
    out = Path(args.dir) / f"{args.tag}-swa"
    out.mkdir(parents=True, exist_ok=True)
    outputs.save_state(out, {k[len("net."):]: v for k, v in swa.items() if k.startswith("net.")})
    (out / "labels.txt").write_text((base / "labels.txt").read_text())
    (out / "model.json").write_text(json.dumps({"architecture": arch, "lgv_swa_of": args.base}))
    print(json.dumps({"lgv": args.tag, "base": args.base, "count": args.count, "epochs": args.epochs, "lr": args.lr,
                      "sam": args.sam,
                      "shifts": args.shifts, "seconds": round(time.time() - started), "test_accuracy": accs}))


def _params(variant: str) -> AttackParams:
    kw = dict(method="pgd", norm="linf", eps=0.2, steps=20, random_start=True, best_iterate=True, seed=0)
    for part in filter(None, variant.split(",")):
        key, value = part.split("=")
        kw[key] = None if value == "None" else value if key == "loss" else float(value) if "." in value else int(value)
    return AttackParams(**kw)


@torch.no_grad()
def _fooled(model, x, y) -> float:
    return (model(x).argmax(1) != y).float().mean().item()


@torch.no_grad()
def _worst_copy_margin(source, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per image (N), the smallest over the ensemble's members of (largest other logit - the
    true class's logit): positive when every copy is fooled, larger the deeper the weakest."""
    members = list(getattr(source, "members", [source]))
    margins = []
    for member in members:
        z = member(x)
        true = z.gather(1, y[:, None]).squeeze(1)
        margins.append(z.scatter(1, y[:, None], float("-inf")).amax(1) - true)
    return torch.stack(margins).amin(0)


def _pick_worst_copy(source, x, y, params: AttackParams, picks: int) -> torch.Tensor:
    """``picks`` PGD runs from other random starts (seeds 0..picks-1); per image, the run whose
    point fools the ensemble's most stubborn copy by the widest margin (a transfer heuristic:
    a point past every copy's boundary is more likely past the victim's)."""
    from dataclasses import replace

    best, best_margin = None, None
    for r in range(picks):
        p = replace(params, seed=params.seed + r)
        adv = torch.cat([run_attack(source, x[i:i + 100], y[i:i + 100], p).adversarial for i in range(0, len(x), 100)])
        margin = _worst_copy_margin(source, adv, y)
        if best is None:
            best, best_margin = adv, margin
        else:
            better = margin > best_margin
            best = torch.where(better[:, None, None, None], adv, best)
            best_margin = torch.maximum(margin, best_margin)
    return best


def measure(args) -> None:
    victim, test = _victim_and_test(args.offset + args.limit)
    x, y = test.batch(torch.arange(args.offset, len(test)))
    with torch.no_grad():
        keep = victim(x).argmax(1) == y
    x, y = x[keep], y[keep]
    copies = args.copies.split("+")
    for variant in args.variants:
        fields = variant.split(",")
        cycle = "cycle=1" in fields
        picks = next((int(f.split("=")[1]) for f in fields if f.startswith("pick=")), 0)
        p = _params(",".join(f for f in fields if f != "cycle=1" and not f.startswith("pick=")))
        source = _load(Path(args.dir), copies, args.arch, cycle)
        started = time.time()
        if picks:
            adv = _pick_worst_copy(source, x, y, p, picks)
        else:
            adv = torch.cat([run_attack(source, x[i:i + 100], y[i:i + 100], p).adversarial
                             for i in range(0, len(x), 100)])
        white = torch.cat([run_attack(victim, x[i:i + 100], y[i:i + 100], p).adversarial
                           for i in range(0, len(x), 100)]) if args.white_box else None
        transfer = _fooled(victim, adv, y)
        low, high = wilson_interval(round(transfer * len(y)), len(y))
        print(json.dumps({"copies": copies, "variant": variant or "ce", "n": len(y),
                          "transfer": round(100 * transfer, 1), "ci95": [round(100 * low, 1), round(100 * high, 1)],
                          "on_copy": round(100 * _fooled(source, adv, y), 1),
                          "white_box": None if white is None else round(100 * _fooled(victim, white, y), 1),
                          "seconds": round(time.time() - started)}), flush=True)


def main() -> None:
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="runs/steal-transfer-study", help="copies and the oracle's answers")
    ap.add_argument("--arch", default="mnist-cnn", help="the copy's network (measure: each copy's card says)")
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("copy", help="train one copy on the 5,000 answers")
    c.add_argument("tag")
    c.add_argument("--epochs", type=int, default=4)
    c.add_argument("--shifts", type=int, default=0)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--queries", type=int, default=QUERIES, help="the first N training images asked (a thief "
                                                                  "with a larger budget: the ceiling of copying)")
    c.add_argument("--pseudo", type=int, default=0, help="also train on the next N unlabelled images, labelled by "
                                                            "--teacher (copies A or A+B): no oracle query")
    c.add_argument("--teacher", default="long16")
    c.add_argument("--answers", help="train on the queries and answers of this `visualizer steal --out` folder "
                                     "(its undefended run) instead of the first 5,000 training images")
    c.add_argument("--sam", type=float, default=0.0, help="SAM's rho (a flat copy, Foret et al. 2021)")
    c.add_argument("--active", help="train on DIR/ACTIVE.pt, the queries an `active` run chose")
    c.add_argument("--warps", type=int, default=0, help="K warped versions of every answered image "
                                                         "(core/stealing/augment.py): rotation, zoom, shift, elastic")
    c.add_argument("--degrees", type=float, default=0.0)
    c.add_argument("--scale", type=float, default=0.0)
    c.add_argument("--shift", type=float, default=0.0)
    c.add_argument("--elastic", type=float, default=0.0)
    c.add_argument("--adversarial", default="none", help="the trainer's recipe, e.g. pgd:l2:1.0:3 (a slightly "
                                                          "robust copy)")
    a = sub.add_parser("active", help="choose the 5,000 queries by uncertainty sampling (ActiveThief)")
    a.add_argument("tag")
    a.add_argument("--pool", type=int, default=60000, help="the first N MNIST training images, unlabelled")
    a.add_argument("--start", type=int, default=1000, help="the first round: the pool's first N images")
    a.add_argument("--rounds", type=int, default=4)
    a.add_argument("--random", type=float, default=0.0, help="share of each round drawn at random")
    a.add_argument("--epochs", type=int, default=8, help="each round's copy")
    a.add_argument("--seed", type=int, default=0)
    g = sub.add_parser("lgv", help="LGV weight snapshots from a trained copy (Gubri et al. 2022)")
    g.add_argument("tag")
    g.add_argument("base", help="the trained copy to start from")
    g.add_argument("--count", type=int, default=20, help="snapshots, evenly spaced")
    g.add_argument("--epochs", type=int, default=5)
    g.add_argument("--lr", type=float, default=0.01, help="SGD's constant learning rate (momentum 0.9)")
    g.add_argument("--shifts", type=int, default=0)
    g.add_argument("--sam", type=float, default=0.0, help="SAM's rho for every SGD step (a flat vicinity)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--answers")
    m = sub.add_parser("measure", help="transfer of attack variants from copies (A or A+B for their mean)")
    m.add_argument("copies")
    m.add_argument("variants", nargs="+")
    m.add_argument("--limit", type=int, default=200, help="first N test images (the victim-correct ones attacked)")
    m.add_argument("--offset", type=int, default=0, help="skip the first N test images (a further set)")
    m.add_argument("--white-box", action="store_true", help="also run each variant white-box on the victim")
    args = ap.parse_args()
    {"copy": make_copy, "lgv": make_lgv, "measure": measure, "active": make_active}[args.what](args)


if __name__ == "__main__":
    main()
