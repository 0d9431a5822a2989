"""Models of the book, each measured with the protocol of :mod:`lobutils.evaluation`.

:mod:`lobutils.models.zoo`
    The classical zoo (scikit-learn and XGBoost): linear/logistic regression, decision tree,
    random forest, XGBoost, SVM and MLP, for regression and classification, built from frozen
    dataclass configs, tuned on the validation block, evaluated on the test block next to the
    naive baselines (chapter 6).

The subpackage imports nothing itself, so ``import lobutils.models.zoo`` loads scikit-learn and
XGBoost only when the zoo is used.
"""
