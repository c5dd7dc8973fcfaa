"""The claims lake as Glue tables (Parquet; partition projection: no crawler, no MSCK REPAIR) and an Athena
workgroup whose results are KMS-encrypted and capped in bytes scanned. Columns: coach.lake_schema (one schema for
the Glue tables, the lake check and the generators)."""

from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from coach.lake_schema import TABLES, glue_columns
from constructs import Construct

DATABASE = "automated_pharmacist"
WORKGROUP = "automated-pharmacist"
BYTES_SCANNED_CUTOFF = 2 * 1024**4  # 2 TiB: a runaway query stops at about $10
PARQUET = {
    "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}


def fill_month_projection(location: str) -> dict[str, str]:
    """claims/fill_month=YYYY-MM/: Athena computes the partitions; nothing to register when a month lands."""
    return {
        "projection.enabled": "true",
        "projection.fill_month.type": "date",
        "projection.fill_month.format": "yyyy-MM",
        "projection.fill_month.range": "1990-01,NOW",
        "projection.fill_month.interval": "1",
        "projection.fill_month.interval.unit": "MONTHS",
        "storage.location.template": location + "fill_month=${fill_month}/",
    }


class ClaimsLake(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        lake_bucket: s3.IBucket,
        lake_prefix: str,
        results_bucket: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        prefix = lake_prefix.strip("/")
        self.lake_uri = f"s3://{lake_bucket.bucket_name}/{prefix + '/' if prefix else ''}"
        self.objects_pattern = f"{prefix}/*" if prefix else "*"
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=DATABASE, description="The PBM's claims extract (columns: docs/data-contract.md)"
            ),
        )
        for table, schema in TABLES.items():
            location = f"{self.lake_uri}{table}/"
            parameters = {"classification": "parquet", "EXTERNAL": "TRUE"}
            partitions = None
            if schema.partition == "fill_month":
                partitions = [glue.CfnTable.ColumnProperty(name="fill_month", type="string")]
                parameters.update(fill_month_projection(location))
            cfn = glue.CfnTable(
                self,
                f"{table.capitalize()}Table",
                catalog_id=stack.account,
                database_name=DATABASE,
                table_input=glue.CfnTable.TableInputProperty(
                    name=table,
                    table_type="EXTERNAL_TABLE",
                    parameters=parameters,
                    partition_keys=partitions,
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        location=location,
                        columns=[
                            glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in glue_columns(table)
                        ],
                        input_format=PARQUET["input_format"],
                        output_format=PARQUET["output_format"],
                        serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=PARQUET["serde"]),
                    ),
                ),
            )
            cfn.node.add_dependency(database)
        self.results_location = f"s3://{results_bucket.bucket_name}/athena/"
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=WORKGROUP,
            state="ENABLED",
            recursive_delete_option=False,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.results_location,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn
                    ),
                ),
            ),
        )
        self.database = DATABASE
        self.workgroup_name = WORKGROUP
        self.database_arn = stack.format_arn(service="glue", resource="database", resource_name=DATABASE)
        self.tables_arn = stack.format_arn(service="glue", resource="table", resource_name=f"{DATABASE}/*")
        self.catalog_arn = stack.format_arn(service="glue", resource="catalog")
        self.workgroup_arn = stack.format_arn(service="athena", resource="workgroup", resource_name=WORKGROUP)
