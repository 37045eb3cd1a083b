"""Retrain the full-size 1% BadNets run after detection with --detect-directions 10 (bench/POISON.md):
the saved model of that run, the same poisons, the detector and trainer functions the sweep calls."""
import json, sys, time, torch
torch.set_num_threads(1)
from pathlib import Path
from visualizer.core.attacks import drive
from visualizer.core.data import load_dataset
from visualizer.core.poisoning import parse_trigger, detector
from visualizer.core.poisoning.badnets import badnets
from visualizer.core.poisoning.poisoned_set import triggered_test_set
from visualizer.core.poisoning.trained import load_trained, predictions
from visualizer.core.training import TrainConfig, train_steps
from visualizer.core.training.data import TrainingData
t0 = time.time()
trig = parse_trigger("patch:checker:4:br")
spec = "mnist:../shared/data/mnist"
train = load_dataset(spec, "train"); test = load_dataset(spec, "test")
p = badnets(train, trig, 0, 0.01, 0)
model = load_trained(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/05-poison") / "rate-0.01", "mnist-cnn", 10, "cpu")
acts = detector.penultimate_activations(model, p.data)
eps = detector.largest_class_fraction(p.data.labels, p.poison_index)
flagged = detector.flag_per_class(acts, p.data.labels, eps, 10)
found = detector.precision_recall(flagged, p.poison_index)
print("found", found, time.time() - t0, flush=True)
keep = torch.ones(len(p.data), dtype=torch.bool); keep[flagged] = False
kept = p.data.subset(torch.nonzero(keep).flatten())
cfg = TrainConfig(data=spec, arch="mnist-cnn", out="runs/05-poison-directions10", eval_attack="none")
res = drive(train_steps(cfg, device="cpu", overwrite=True, data=TrainingData(kept, test, "the test split")), None)
m = load_trained(Path("runs/05-poison-directions10"), "mnist-cnn", 10, "cpu")
trg = triggered_test_set(test, trig, 0)
asr = float((predictions(m, trg, "cpu") == 0).float().mean())
clean = float((predictions(m, test, "cpu") == test.labels).float().mean())
out = {"found": found, "eps": eps, "directions": 10, "retrained_training_images": len(kept), "asr": asr, "clean": clean,
       "train_seconds": res.card["time"]["train_seconds"], "seconds": time.time() - t0}
print(json.dumps(out), flush=True)
json.dump(out, open("runs/05-poison-directions10/result.json", "w"), indent=1)
