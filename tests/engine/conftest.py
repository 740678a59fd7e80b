"""Engines for the engine tests: the sample in embedded DuckDB, and the same tables in PySpark (local mode).

The Spark session starts once per test session (its JVM takes 10-40 s); a machine without Java or pyspark
skips the Spark tests with the reason (a failure under CI=true, see the root conftest).
"""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def duckdb_engine(sample):
    """The committed sample's tables in embedded DuckDB."""
    from salesops.engine import Engine

    return Engine.from_data(sample)


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """A local Spark session (2 cores, no UI, loopback only, UTC), stopped at the end of the test session."""
    pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -r requirements.lock)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for PySpark (apt-get install openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    scratch = tmp_path_factory.mktemp("spark")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("salesops-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
        .config("spark.local.dir", str(scratch / "local"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    assert pyspark.__version__
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def spark_engine(sample, spark_session):
    """The committed sample's tables in Spark, through Ibis's PySpark backend."""
    import ibis

    from salesops.engine import Engine

    return Engine.from_data(sample, ibis.pyspark.connect(spark_session))
