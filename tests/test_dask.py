"""Parallel fitting on a real distributed.LocalCluster (the 'dask' extra)."""

import warnings

import numpy as np
import pytest

from sklearn_onlinegauss import OnlineGaussian
from sklearn_onlinegauss._covariance import kl_divergence
from sklearn_onlinegauss.exceptions import ShrunkStepWarning

da = pytest.importorskip("dask.array", reason="the 'dask' extra is not installed")
dd = pytest.importorskip("dask.dataframe", reason="the 'dask' extra is not installed")
distributed = pytest.importorskip("distributed", reason="the 'dask' extra is not installed")
pd = pytest.importorskip("pandas")

from sklearn_onlinegauss import dask as og_dask  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # processes=False keeps the workers in this process; recent versions then
    # need an explicit tcp protocol. Loopback only.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 5))
    return rng.multivariate_normal(rng.normal(size=5) * 10, A @ A.T + np.eye(5), size=40_000)


def test_without_a_client_the_default_scheduler_is_used(data):
    # First in this file, before the module-scoped cluster starts.
    assert distributed.client._get_global_client() is None
    est = og_dask.fit(OnlineGaussian(), da.from_array(data[:1000], chunks=(300, 5)))
    np.testing.assert_allclose(est.covariance_, np.cov(data[:1000].T, bias=True), rtol=1e-10)


def test_parallel_fit_of_the_default_solver_is_exact(client, data):
    estimator = OnlineGaussian(reg_covar=1e-7)
    est = og_dask.fit(estimator, da.from_array(data, chunks=(3_000, 5)))
    whole = OnlineGaussian().fit(data)
    np.testing.assert_allclose(est.location_, whole.location_, rtol=1e-12)
    np.testing.assert_allclose(est.covariance_, whole.covariance_, rtol=1e-10)
    assert est.n_samples_seen_ == len(data)
    assert est.reg_covar == 1e-7 and not hasattr(estimator, "t_")  # settings kept, input untouched


def test_parallel_fit_of_a_dataframe_keeps_feature_names(client, data):
    frame = dd.from_pandas(pd.DataFrame(data, columns=list("abcde")), npartitions=6)
    est = og_dask.fit(OnlineGaussian(), frame)
    np.testing.assert_array_equal(est.feature_names_in_, list("abcde"))
    np.testing.assert_allclose(est.covariance_, np.cov(data.T, bias=True), rtol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_parallel_fit_of_euclidean_solvers_is_within_statistical_tolerance(client, data, solver):
    block = 5_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShrunkStepWarning)
        parallel = og_dask.fit(
            OnlineGaussian(solver=solver, batch_size=100), da.from_array(data, chunks=(block, 5))
        )
        single = OnlineGaussian(solver=solver, batch_size=100).partial_fit(data)
    # Each estimate is at least as good as one block's MLE, whose expected KL
    # from the truth is d (d + 3) / (4 n_block); allow five times that.
    d = data.shape[1]
    tolerance = 5 * d * (d + 3) / (4 * block)
    assert (
        kl_divergence(
            single.location_, single.covariance_, parallel.location_, parallel.covariance_
        )
        < tolerance
    )


def test_incremental_wrapper_streams_blocks_in_order(client, data):
    from dask_ml.wrappers import Incremental

    inc = Incremental(OnlineGaussian()).fit(da.from_array(data, chunks=(4_000, 5)))
    np.testing.assert_allclose(inc.estimator_.covariance_, np.cov(data.T, bias=True), rtol=1e-10)
    frame = dd.from_pandas(pd.DataFrame(data, columns=list("abcde")), npartitions=4)
    inc = Incremental(OnlineGaussian()).fit(frame)
    np.testing.assert_array_equal(inc.estimator_.feature_names_in_, list("abcde"))
    np.testing.assert_allclose(inc.estimator_.covariance_, np.cov(data.T, bias=True), rtol=1e-10)


def test_column_chunked_arrays_and_other_inputs_are_refused(client, data):
    with pytest.raises(ValueError, match=r"rechunk it first: X.rechunk\(\{1: -1\}\)"):
        og_dask.fit(OnlineGaussian(), da.from_array(data, chunks=(4_000, 2)))
    with pytest.raises(TypeError, match="Dask array or DataFrame"):
        og_dask.fit(OnlineGaussian(), data)


@pytest.mark.parametrize("split_every", [1, 2, 3, 0, -1, None, 2.5, True])
def test_split_every_is_validated_and_every_valid_value_terminates(data, split_every):
    import concurrent.futures

    X = da.from_array(data[:2000], chunks=(100, 5))  # 20 blocks: a tree of several levels
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        call = pool.submit(_fit_threaded, X, split_every)
        if split_every in (1, 0, -1, 2.5, True):
            with pytest.raises(ValueError, match="split_every"):
                call.result(timeout=60)
            return
        est = call.result(timeout=60)  # a reduction that never shrinks would time out here
    np.testing.assert_allclose(est.covariance_, np.cov(data[:2000].T, bias=True), rtol=1e-10)


def _fit_threaded(X, split_every):
    import dask

    with dask.config.set(scheduler="threads"):
        return og_dask.fit(OnlineGaussian(), X, split_every=split_every)
