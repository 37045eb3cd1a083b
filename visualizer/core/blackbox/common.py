"""What every query attack shares: the margin objective on oracle answers, the per-image
query ledger, and the bookkeeping that turns query batches into events and a result."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from visualizer.core.blackbox.oracle import Oracle, QueryBudgetExhausted
from visualizer.core.blackbox.params import NEEDS_SCORES, QueryAttackParams
from visualizer.core.blackbox.result import (STOP_BUDGET, STOP_CANCELLED, STOP_FEW_LEFT, STOP_NO_START,
                                             STOP_ORACLE_BUDGET, STOP_SUCCESS, QueryAttackResult, QueryStep)
from visualizer.core.errors import ParameterError

TOP_K = 5
_LOG_FLOOR = torch.finfo(torch.float32).tiny   # log of a 0 probability (absent top-k class) -> -87.3


def as_scores(answers: torch.Tensor, num_classes: int) -> torch.Tensor:
    """N x classes scores from oracle answers: probabilities as they are, labels one-hot."""
    if answers.dim() == 1:
        return torch.nn.functional.one_hot(answers, num_classes).float()
    return answers.float()


def objective(scores: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor | None) -> torch.Tensor:
    """The margin the query attacks maximise, per example (N), from probabilities (N x C):
    untargeted max_{j != y} log p_j - log p_y, targeted log p_t - max_{j != t} log p_j.
    On full probabilities this is the logit margin (softmax keeps logit differences), the
    loss of Square Attack (Andriushchenko et al. 2020) and of Carlini-Wagner; it is positive
    exactly when the oracle's top-1 is wrong (or the target)."""
    logp = scores.clamp_min(_LOG_FLOOR).log()
    cls = targets if targets is not None else labels
    own = logp.gather(1, cls.view(-1, 1)).squeeze(1)
    others = logp.scatter(1, cls.view(-1, 1), -float("inf")).amax(dim=1)
    return own - others if targets is not None else others - own


def check_oracle(oracle: Oracle, params: QueryAttackParams) -> None:
    if params.method in NEEDS_SCORES and not oracle.spec.scores:
        raise ParameterError(f"{params.method} needs scores; a label-only oracle gives none. "
                             "Use hopskipjump for a label-only oracle.")


class QueryLedger:
    """Asks the oracle for some images' candidates and counts queries per image.

    Callers ask only for images with budget left (``remaining``); the oracle's own total
    budget may still run out (QueryBudgetExhausted): ``exhausted`` is set and the attack
    ends with what it has."""

    def __init__(self, oracle: Oracle, n: int, budget: int, device):
        self.oracle = oracle
        self.budget = budget
        self.spent = torch.zeros(n, dtype=torch.long, device=device)
        self.exhausted = False

    def remaining(self) -> torch.Tensor:
        return self.budget - self.spent

    def ask(self, images: torch.Tensor, owners: torch.Tensor) -> torch.Tensor | None:
        """Scores (rows x C) for ``images`` (rows x C x H x W) asked on behalf of image
        ``owners`` (rows, indices); None once the oracle's total budget has run out."""
        try:
            answers = self.oracle(images)      # the attacks keep their points in [0, 1]
        except QueryBudgetExhausted:
            self.exhausted = True
            return None
        self.spent += torch.bincount(owners, minlength=self.spent.numel()).to(self.spent.device)
        return as_scores(answers, self.oracle.num_classes)


class Recorder:
    """History rows and events for one query attack on N images."""

    def __init__(self, params: QueryAttackParams, x0: torch.Tensor, labels, targets, ledger: QueryLedger):
        self.started = time.perf_counter()
        self.params, self.x0, self.labels, self.targets, self.ledger = params, x0, labels, targets, ledger
        self.loss, self.ref, self.tgt, self.queries = [], [], [], []

    def step(self, index: int, best_obj: torch.Tensor, best_scores: torch.Tensor, success: torch.Tensor,
             x_best: torch.Tensor | None) -> QueryStep:
        """Record the state after a query batch and return its event."""
        ref = best_scores.gather(1, self.labels.view(-1, 1)).squeeze(1)
        tgt = best_scores.gather(1, self.targets.view(-1, 1)).squeeze(1) if self.targets is not None else None
        spent = self.ledger.spent.clone()
        self.loss.append(best_obj.clone())
        self.ref.append(ref)
        self.queries.append(spent)
        if tgt is not None:
            self.tgt.append(tgt)
        top = best_scores.topk(min(TOP_K, best_scores.shape[1]), dim=1)
        return QueryStep(0, index, int(spent.max()), self.params.queries, best_obj.clone(), ref, tgt, top.values,
                         top.indices, success.clone(), x_best.clone() if x_best is not None else None, spent)

    def result(self, adversarial, success, best_obj, cancelled: bool, warnings: list[str],
               unstarted: torch.Tensor | None = None, step_needs: int | None = None) -> QueryAttackResult:
        """``unstarted`` (N, bool): images the attack never found a starting point for;
        ``step_needs``: about how many queries one more step takes (said when an image
        stops with fewer left)."""
        if self.ledger.exhausted:
            warnings = warnings + [f"The oracle's total query budget ran out after {self.ledger.oracle.queries} "
                                   "queries; the attack stopped there."]
        reasons = self.stop_reasons(success.cpu(), cancelled, unstarted)
        early = sum(r == STOP_FEW_LEFT for r in reasons)
        if early:
            left = [int(self.params.queries - s) for s, r in zip(self.ledger.spent.tolist(), reasons) if r == STOP_FEW_LEFT]
            needs = f" (a step takes about {step_needs})" if step_needs else ""
            warnings = warnings + [f"{self.params.method} stopped with queries unspent ({_counts(left)} of "
                                   f"{self.params.queries}) on {early} unbroken image(s): too few left for another "
                                   f"step{needs}."]
        if unstarted is not None and bool(unstarted.any()):
            warnings = warnings + [f"{self.params.method} found no misclassified starting point for "
                                   f"{int(unstarted.sum())} image(s); they were not attacked."]
        return QueryAttackResult(
            params=self.params, clean=self.x0, adversarial=adversarial.detach(), labels=self.labels,
            targets=self.targets, success=success, loss=best_obj, history_loss=torch.stack(self.loss),
            history_ref_prob=torch.stack(self.ref), history_target_prob=torch.stack(self.tgt) if self.tgt else None,
            cancelled=cancelled, iterates=len(self.loss), wall_time_s=time.perf_counter() - self.started,
            warnings=list(self.params.warnings()) + warnings, queries=self.ledger.spent.cpu(),
            history_queries=torch.stack(self.queries).cpu(), oracle=self.ledger.oracle.describe(),
            budget_exhausted=self.ledger.exhausted, stop_reasons=reasons)

    def stop_reasons(self, success: torch.Tensor, cancelled: bool, unstarted: torch.Tensor | None) -> list[str]:
        """Why each image's attack ended (STOP_REASONS)."""
        reasons = []
        for i, spent in enumerate(self.ledger.spent.tolist()):
            if bool(success[i]):
                reasons.append(STOP_SUCCESS)
            elif cancelled:
                reasons.append(STOP_CANCELLED)
            elif unstarted is not None and bool(unstarted[i]):
                reasons.append(STOP_NO_START)
            elif spent >= self.params.queries:
                reasons.append(STOP_BUDGET)
            elif self.ledger.exhausted:
                reasons.append(STOP_ORACLE_BUDGET)
            else:
                reasons.append(STOP_FEW_LEFT)
        return reasons


def _counts(values: list[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else f"{min(values)}-{max(values)}"


def window_mask(n: int, size: int, height: int, width: int, rows: torch.Tensor, cols: torch.Tensor,
                device) -> torch.Tensor:
    """N x 1 x H x W bool: a size x size square at (rows[i], cols[i]) in image i."""
    r = torch.arange(height, device=device).view(1, -1)
    c = torch.arange(width, device=device).view(1, -1)
    in_r = (r >= rows.view(-1, 1)) & (r < rows.view(-1, 1) + size)
    in_c = (c >= cols.view(-1, 1)) & (c < cols.view(-1, 1) + size)
    return (in_r.unsqueeze(2) & in_c.unsqueeze(1)).view(n, 1, height, width)


@dataclass
class QueryRun:
    """What every query attack sets up: the images on the oracle's device, its labels and
    targets, a seeded CPU generator, the ledger, the recorder, and the clean answers."""

    x0: torch.Tensor
    labels: torch.Tensor
    targets: torch.Tensor | None
    gen: torch.Generator
    ledger: QueryLedger
    rec: Recorder
    everyone: torch.Tensor             # arange(N) on the device
    scores: torch.Tensor | None        # the clean answers (None: the oracle's budget was already spent)

    def nothing(self) -> QueryAttackResult:
        """The result when not even the clean query could be asked."""
        n = self.x0.shape[0]
        return self.rec.result(self.x0, torch.zeros(n, dtype=torch.bool), torch.zeros(n), False, [])


def begin(oracle: Oracle, images, labels, targets, params: QueryAttackParams) -> QueryRun:
    """Set up a query attack (``params`` resolved) and ask the clean query for every image."""
    x0 = images.detach().to(oracle.device).float()
    labels = labels.to(x0.device)
    targets = targets.to(x0.device) if targets is not None else None
    n = x0.shape[0]
    ledger = QueryLedger(oracle, n, params.queries, x0.device)
    everyone = torch.arange(n, device=x0.device)
    run = QueryRun(x0, labels, targets, torch.Generator().manual_seed(int(params.seed)), ledger,
                   Recorder(params, x0, labels, targets, ledger), everyone, None)
    run.scores = ledger.ask(x0, everyone)
    return run


def keep_better(run: QueryRun, todo: torch.Tensor, cand: torch.Tensor, got: torch.Tensor, x_best: torch.Tensor,
                best_scores: torch.Tensor, best_obj: torch.Tensor) -> None:
    """For each image of ``todo``, keep its candidate (and the answers ``got``) where the
    margin rose; updates ``x_best``, ``best_scores`` and ``best_obj`` in place."""
    obj = objective(got, run.labels[todo], run.targets[todo] if run.targets is not None else None)
    better = obj > best_obj[todo]
    idx = todo[better]
    x_best[idx], best_scores[idx], best_obj[idx] = cand[better], got[better], obj[better]
