from __future__ import annotations

import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import SVC

from byop.pipeline import (
    BuildError,
    Choice,
    Component,
    Fixed,
    InvalidPipelineError,
    Join,
    Pipeline,
    Split,
    request,
    searchable,
)
from byop.plugins import UnknownFeatureError


def test_sequential_choice_and_values_become_a_scikit_learn_pipeline():
    pipeline = Pipeline(
        Component(SimpleImputer, space={"strategy": ["mean", "median"]}),
        Choice(StandardScaler, MinMaxScaler, name="scaler"),
        Component(SVC, space={"C": (0.1, 10.0)}, config={"random_state": request("seed")}),
    )
    config = {"SimpleImputer:strategy": "median", "scaler:__choice__": "MinMaxScaler", "SVC:C": 2.5}
    model = pipeline.configure(config, params={"seed": 7}).build("sklearn")
    assert isinstance(model, SkPipeline)
    assert [name for name, _ in model.steps] == ["SimpleImputer", "scaler", "SVC"]
    assert model.named_steps["SimpleImputer"].strategy == "median"
    assert isinstance(model.named_steps["scaler"], MinMaxScaler)
    assert model.named_steps["SVC"].C == 2.5 and model.named_steps["SVC"].random_state == 7


def test_split_becomes_a_column_transformer_and_join_a_feature_union():
    split = Split(
        {"num": [SimpleImputer, StandardScaler], "cat": OneHotEncoder},
        config={"num": [0, 1], "cat": [2], "remainder": "drop"},
        name="columns",
    )
    union = Join(PCA, Component(SelectKBest, config={"k": 2}), name="features")
    model = (split >> union >> SVC).configure({}).build("sklearn")
    columns = model.named_steps["columns"]
    assert isinstance(columns, ColumnTransformer) and columns.remainder == "drop"
    assert [(n, cols) for n, _, cols in columns.transformers] == [("num", [0, 1]), ("cat", [2])]
    assert isinstance(columns.transformers[0][1], SkPipeline)
    assert isinstance(model.named_steps["features"], FeatureUnion)


def test_fixed_is_cloned_and_pipeline_type_is_used():
    scaler = StandardScaler(with_mean=False)
    built = (Fixed(scaler, name="scale") >> SVC).configure({}).build("sklearn")
    assert built.named_steps["scale"] is not scaler
    assert built.named_steps["scale"].with_mean is False

    class MyPipeline(SkPipeline):
        pass

    other = (Fixed(scaler, name="scale") >> SVC).build("sklearn", pipeline_type=MyPipeline)
    assert type(other) is MyPipeline


def test_bad_builds_say_what_is_wrong():
    with pytest.raises(BuildError, match="no item to build"):
        searchable("s", space={"x": (0.0, 1.0)}).build("sklearn")
    with pytest.raises(BuildError, match="still chooses between"):
        Choice(StandardScaler, MinMaxScaler).build("sklearn")
    with pytest.raises(BuildError, match="still requested"):
        Component(SVC, config={"random_state": request("seed")}).build("sklearn")
    with pytest.raises(BuildError, match=r"Component 'SVC'.*bogus"):
        Component(SVC, config={"bogus": 1}).build("sklearn")
    with pytest.raises(
        UnknownFeatureError, match=r"'sklearn'.*byop\[nonesuch\]|Available: 'sklearn'"
    ):
        Component(SVC).build("nonesuch")
    with pytest.raises(InvalidPipelineError, match="no column selection for \\['cat'\\]"):
        Split({"num": StandardScaler, "cat": OneHotEncoder}, config={"num": [0]})
