//! Delta commits for tests that grow a table between runs: Spark-shaped (metric values as strings, as Spark
//! writes them; names from delta-io/delta `DeltaOperations.scala`, `DeltaOperationMetrics`).

use serde_json::{Value, json};

pub const SCHEMA_V1: &str = r#"{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}"#;
pub const SCHEMA_V2: &str = r#"{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"region","type":"string","nullable":true,"metadata":{}}]}"#;

/// A Spark-shaped commit (metric values are strings, as Spark writes them), a minute after the previous one.
pub fn commit(version: u64, operation: &str, metrics: Value, schema: Option<&str>, data_change: bool) -> String {
    let ms = 1_796_000_000_000_i64 + version as i64 * 60_000;
    let mut lines =
        vec![json!({"commitInfo": {"timestamp": ms, "operation": operation, "operationMetrics": metrics}}).to_string()];
    if version == 0 {
        lines.push(json!({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}).to_string());
    }
    if let Some(schema) = schema {
        lines.push(
            json!({"metaData": {"id": "e1", "format": {"provider": "parquet", "options": {}}, "schemaString": schema,
                "partitionColumns": [], "configuration": {}}})
            .to_string(),
        );
    }
    lines.push(
        json!({"add": {"path": format!("part-{version}.parquet"), "partitionValues": {}, "size": 1,
            "modificationTime": ms, "dataChange": data_change}})
        .to_string(),
    );
    lines.join("\n") + "\n"
}
