"""The consensus engine: merge several annotators' answers and measure how far they agree. Pure: plain data and
numpy arrays in, plain data out; no Django, no database.

Per task (after each submission, or in a project sweep)
    merge_control(control, annotations, merge, *, task_key=None, **options) -> TaskConsensus | None
        control = {"name", "to_name", "type", "multiple", "values", "options"} (options: the type's own attributes)
        annotations = [(annotator_id, this control's result items)]
        merge(control, annotations, MergeOptions) = the control type's own merge (quality.merging finds it in the
        registry of control types), calling aggregate_single_choice / aggregate_multiple_choice / aggregate_text
        (choices.py), aggregate_boxes (boxes.py), aggregate_spans (spans.py), aggregate_ranking (ranking.py: Borda
        count, Kendall's W) or aggregate_rating (rating.py: median, Krippendorff's interval alpha)
    MergeOptions(seed, method="majority"|"dawid_skene", reliability=None, class_prior=None, iou_threshold=0.5,
                 min_votes=None, box_fusion="median", text=None)
    merge_result(controls, annotations_by_author, merge, *, reliability_by_control=None,
                 class_prior_by_control=None, task_key=None, **options) -> TaskConsensus
    combine_controls({name: TaskConsensus}, annotator_count=n) -> TaskConsensus
    TaskConsensus: result (Label Studio items, ids derived from task_key), agreement (None below two
        annotators), confidence, method, details (votes, ties and how they broke, box/span counts, per_label).

Per project, choices (CrowdLabels: arrays task, annotator, label; one row per label)
    encode_crowd_labels(rows, classes); encode_multiple_choice(rows, choices) -> {choice: binary CrowdLabels}
    labels.encode_gold({task_id: class_name}) -> (task indices, class indices), the `gold` of fit_dawid_skene
    fit_dawid_skene(labels, *, gold=None, pseudo_count=1.0, one_coin_strength=None, max_iter=100, tol=1e-6)
        -> DawidSkeneFit (posterior, label, confidence, class_prior, confusion, reliability, iterations, converged;
           confusion_by_annotator() / reliability_by_annotator() feed MergeOptions' `reliability`)
    majority_vote(labels, *, weights=None, tie_break="prior"|"seeded", posterior=None) -> MajorityVote
    recommended_method(labels) -> "dawid_skene" once annotators have enough history, else "majority"

Agreement
    krippendorff_alpha_nominal(counts), krippendorff_alpha_interval(counts, values), fleiss_kappa(counts),
    pairwise_agreement(counts), specific_agreement(counts), vote_counts(labels); choices_agreement_summary(labels) and
    summarize_agreement(task_agreements, label_agreements) -> AgreementSummary (overall, per_label, 10-bin histogram)

Annotators
    annotator_quality(rows: [AnnotationRow], *, gold, consensus, reliability) -> [AnnotatorQuality]

Rules chosen on purpose
- Ties: the tied answer a preference rates highest (DS posterior, else the project's class prior) wins; what is
  still tied is drawn at random seeded from the task id (splitmix64; the same on every run and machine). Never
  "first in config order". details["tie"] records the tied answers and the rule that decided.
- Missing: a single-choice annotator with no item gives no vote; an empty multiple-choice selection, an empty
  box or span list is an answer ("none") and counts toward the majority needed.
- One annotator: their answer is the consensus; agreement is None (not 1).
- Few labels: DS shrinks an annotator's confusion matrix toward their one-coin accuracy (n_classes pseudo-labels
  per row); annotator estimates from fewer than 20 tasks are flagged (few_tasks) and shrunk, not hidden.
"""
import numpy as np

from .agreement import (AgreementSummary, choices_agreement_summary, fleiss_kappa, krippendorff_alpha_interval,
                        krippendorff_alpha_nominal, pairwise_agreement, specific_agreement, summarize_agreement)
from .annotators import AnnotationRow, AnnotatorQuality, annotator_quality
from .crowd import CrowdLabels, encode_crowd_labels, encode_multiple_choice, vote_counts
from .dawid_skene import DawidSkeneFit, fit_dawid_skene
from .majority import MajorityVote, class_prior, majority_vote
from .outcome import TaskConsensus, result_item
from .task import MergeControl, MergeOptions, combine_controls, merge_control, merge_result
from .ties import stable_seed

ENOUGH_HISTORY = 20


def recommended_method(labels: CrowdLabels, *, min_labels: int = ENOUGH_HISTORY) -> str:
    """Dawid-Skene once the typical (median) annotator has `min_labels` labels; majority vote before that."""
    per_annotator = labels.labels_per_annotator
    enough = len(per_annotator) and float(np.median(per_annotator[per_annotator > 0])) >= min_labels
    return "dawid_skene" if enough else "majority"


__all__ = [
    "AgreementSummary", "AnnotationRow", "AnnotatorQuality", "CrowdLabels", "DawidSkeneFit", "MajorityVote",
    "MergeControl", "MergeOptions", "TaskConsensus", "annotator_quality", "choices_agreement_summary", "class_prior",
    "combine_controls", "encode_crowd_labels", "encode_multiple_choice", "fit_dawid_skene", "fleiss_kappa",
    "krippendorff_alpha_interval", "krippendorff_alpha_nominal", "majority_vote", "merge_control", "merge_result", "pairwise_agreement",
    "recommended_method", "result_item", "specific_agreement", "stable_seed", "summarize_agreement", "vote_counts",
]
