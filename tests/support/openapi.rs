//! A request-body validator for OpenAPI 2.0 (Swagger) specs written with AutoRest's `x-ms-*` extensions, so the
//! integration tests can check every JSON body drift sends to ARM against the vendored Azure ML spec
//! (`tests/contracts/azureml/stable/2025-12-01/mfe.json`, DESIGN.md "Azure wire contracts"). It owns: loading the
//! spec files, finding the operation for a request (path templates, ARM's case-insensitive literal segments), the
//! body parameter's schema, and the schema rules below. It knows nothing of drift or the sandbox.
//!
//! Why hand-written. The `jsonschema` crate implements the JSON Schema drafts, not OpenAPI 2.0: it has no
//! `discriminator` / `x-ms-discriminator-value` (in this spec polymorphism decides which definition validates a
//! body at all: a `JobBase` is checked as `PipelineJob` because `jobType` says "Pipeline"), no `readOnly` as a
//! request rule, no `x-nullable`, and it reads `allOf` + `additionalProperties: false` as independent schemas, which
//! rejects every inherited member of every ARM body here. Azure's own spec validator (`oav`, TypeScript) gets there
//! by rewriting the spec with a dozen transforms first (`lib/transform/allOfTransformer.ts`,
//! `discriminatorTransformer.ts`, `nullableTransformer.ts`); doing that rewrite and then running `jsonschema` is more
//! code than validating directly. Of the Rust crates that validate requests against OpenAPI descriptions, `oasert`
//! is for OpenAPI 3.x only and `roas-http-validator` is a young 0.x crate; neither knows the AutoRest extensions
//! this spec leans on. So: a few hundred lines over `serde_json::Value`, plus `regex` for `pattern`.
//!
//! Rules, each with its source (OpenAPI 2.0 = <https://github.com/OAI/OpenAPI-Specification/blob/main/versions/2.0.md>;
//! AutoRest = <https://github.com/Azure/autorest/blob/main/docs/extensions/readme.md>):
//! - `$ref`: a JSON Reference with a JSON Pointer (OpenAPI 2.0, Reference Object); relative file parts resolve to
//!   the spec files loaded beside each other. mfe.json points into `machineLearningServices.json` (parameters only)
//!   and into ARM's common-types `types.json` (`ProxyResource`, mfe.json line 15246 and others), which is not
//!   vendored: [`COMMON_TYPES`] stands in for the part the request bodies use.
//! - `allOf` is inheritance, as AutoRest and `oav` read it: the definition's members are its own plus those of every
//!   `allOf` parent (own first), `required` is the union, and `additionalProperties` is the definition's own (`oav`
//!   does not inherit it either: the assignment is commented out in `allOfTransformer.ts`). OpenAPI 2.0 "Composition and Inheritance" says
//!   `allOf` parts are "validated independently but together compose a single object"; read literally, the spec's
//!   `ResourceBase` (`additionalProperties: false`) would reject `jobType` in every job, so that reading cannot be
//!   the one the spec's authors meant.
//! - `discriminator` (OpenAPI 2.0, Schema Object: "the value MUST be the name of this schema or any schema that
//!   inherits it") with `x-ms-discriminator-value` (AutoRest: "the expected value of the discriminator field on the
//!   wire", overriding the definition name): a body checked against a definition that has, or inherits, a
//!   discriminator is checked as the definition (transitively) inheriting from it whose value the body names; an
//!   unknown value is an error, and so is a value naming a type that is not the expected one or below it. drift's
//!   bodies go through `jobType` (mfe.json line 18385, JobBase), `jobInputType` (18451, JobInput), `dataType`
//!   (15235, DataVersionBase), `datastoreType` (15306, Datastore), `credentialsType` (15321) and `secretsType`
//!   (15373).
//! - `type`, `required`, `properties`, `additionalProperties` (false, or a schema for every other member), `enum`,
//!   `pattern`, `minLength`, `items`: JSON Schema draft 4 semantics, which OpenAPI 2.0 adopts ("The following
//!   properties are taken directly from the JSON Schema definition"). `enum` is exact JSON equality, also when
//!   `x-ms-enum.modelAsString` is true: AutoRest says that flag makes the *generated client* model the enum "as a
//!   string. No validation will happen" (so clients survive values newer than their spec); it does not widen what
//!   the spec documents, and nothing in either document makes comparison case-insensitive. drift should send the
//!   values as spelled. `pattern` is searched, not anchored (JSON Schema Validation draft 4 §5.2.3 — from memory:
//!   "regular expressions are not implicitly anchored"), which matters for the spec's `[a-zA-Z0-9_]`.
//! - `format`, where cheap: `uuid` (an AutoRest format, a GUID: 8-4-4-4-12 hex — from memory), `date-time` (OpenAPI
//!   2.0, Data Types: "As defined by date-time - RFC3339"), the `int32` range. `int64`, `duration`, `uri`, `arm-id`,
//!   `float`, `double` are not checked.
//! - `readOnly`: "MAY be sent as part of a response but MUST NOT be sent as part of the request" (OpenAPI 2.0, Schema
//!   Object). `x-ms-mutability` without `create` and `update` is the same rule: AutoRest uses `["read"]` "to work
//!   around Swagger 2.0 spec limitation when readonly: true is not allowed".
//! - `x-nullable`: "By default, a null value should be disallowed when forming a request" (AutoRest). Honoured on the
//!   schema, on a `$ref`'s siblings and on the referenced definition. Stricter than `oav`, which lets any
//!   non-required member be null (`nullableTransformer.ts`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use serde_json::{Map, Value, json};

/// Where the pinned Azure ML spec lives, relative to the crate root (DESIGN.md: api-version 2025-12-01).
pub const AZUREML_SPEC_DIR: &str = "tests/contracts/azureml/stable/2025-12-01";

/// The spec files loaded from [`AZUREML_SPEC_DIR`]: mfe.json holds jobs, data and datastores; its parameters point
/// into machineLearningServices.json, which also holds the workspace and compute paths.
pub const AZUREML_SPEC_FILES: &[&str] = &["mfe.json", "machineLearningServices.json"];

/// The part of ARM's common-types v3 `types.json` the request bodies reach: every ARM resource envelope inherits
/// `ProxyResource` → `Resource`, whose four members are all read-only. Written here from the upstream file
/// (Azure/azure-rest-api-specs, specification/common-types/resource-management/v3/types.json, read for this), which
/// is not vendored; `systemData`'s own shape does not matter because it may not be sent at all.
pub const COMMON_TYPES: &str = r##"{
  "definitions": {
    "ProxyResource": {"type": "object", "allOf": [{"$ref": "#/definitions/Resource"}]},
    "Resource": {
      "type": "object",
      "properties": {
        "id": {"type": "string", "readOnly": true},
        "name": {"type": "string", "readOnly": true},
        "type": {"type": "string", "readOnly": true},
        "systemData": {"type": "object", "readOnly": true}
      }
    }
  }
}"##;

/// One broken rule: where in the body (a JSON path from `$`), which rule, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    /// The spec keyword that was broken (`additionalProperties`, `discriminator`, ...), or `operation` / `body` for
    /// a request the spec has no operation or body for.
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: [{}] {}", self.path, self.rule, self.message)
    }
}

/// An operation of the spec: method, path template, and its body parameter if it has one.
#[derive(Debug)]
pub struct Operation {
    pub id: String,
    pub method: String,
    pub template: String,
    /// `None` for a `{parameter}` segment.
    segments: Vec<Option<String>>,
    body: Option<BodyParam>,
}

#[derive(Debug)]
struct BodyParam {
    required: bool,
    /// The file the schema sits in (its relative `$ref`s resolve there).
    doc: String,
    schema: Value,
}

/// A definition, named by the file that holds it and its key under `definitions`.
type DefId = (String, String);

/// Loaded spec files with their operations and the discriminator maps.
pub struct Spec {
    /// By file name (`mfe.json`, `types.json`, ...).
    docs: HashMap<String, Value>,
    operations: Vec<Operation>,
    /// Each definition's direct `allOf` parents.
    parents: HashMap<DefId, Vec<DefId>>,
    /// For each definition that declares a `discriminator`: the wire value of it and of every definition inheriting
    /// from it, to that definition.
    subtypes: HashMap<DefId, BTreeMap<String, DefId>>,
    patterns: Mutex<HashMap<String, Regex>>,
}

impl Spec {
    /// The pinned Azure ML spec, loaded once per test process.
    pub fn azureml() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(AZUREML_SPEC_DIR);
            Spec::load(&dir, AZUREML_SPEC_FILES)
        })
    }

    /// Loads `files` from `dir` plus [`COMMON_TYPES`] as `types.json`. Panics on an unreadable file: the spec is a
    /// fixture of the test suite.
    pub fn load(dir: &Path, files: &[&str]) -> Spec {
        let mut docs = HashMap::new();
        for file in files {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let doc: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            docs.insert(file.to_string(), doc);
        }
        docs.insert("types.json".to_string(), serde_json::from_str(COMMON_TYPES).expect("COMMON_TYPES is JSON"));
        let mut spec = Spec {
            docs,
            operations: Vec::new(),
            parents: HashMap::new(),
            subtypes: HashMap::new(),
            patterns: Mutex::new(HashMap::new()),
        };
        spec.operations = files.iter().flat_map(|f| spec.operations_of(f)).collect();
        spec.index_inheritance();
        spec
    }

    /// The operations of one file. Path-level parameters apply to every operation of the path, operation-level
    /// ones override them by name and location (OpenAPI 2.0, Path Item Object `parameters`).
    fn operations_of(&self, file: &str) -> Vec<Operation> {
        let mut out = Vec::new();
        let Some(paths) = self.docs[file].get("paths").and_then(Value::as_object) else { return out };
        for (template, item) in paths {
            let shared = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for (method, op) in item.as_object().into_iter().flatten() {
                if !["get", "put", "post", "patch", "delete", "head", "options"].contains(&method.as_str()) {
                    continue;
                }
                let own = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
                let body = own
                    .iter()
                    .chain(&shared)
                    .filter_map(|p| self.parameter(file, p))
                    .find(|(_, p)| p.get("in").and_then(Value::as_str) == Some("body"))
                    .map(|(doc, p)| BodyParam {
                        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                        doc,
                        schema: p.get("schema").cloned().unwrap_or(Value::Null),
                    });
                let segments = template
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| if s.starts_with('{') && s.ends_with('}') { None } else { Some(s.to_string()) })
                    .collect();
                out.push(Operation {
                    id: op.get("operationId").and_then(Value::as_str).unwrap_or("?").to_string(),
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                    segments,
                    body,
                });
            }
        }
        out
    }

    /// A parameter object with the file it came from, following its `$ref`. References into common-types
    /// (`SubscriptionIdParameter`, `ResourceGroupNameParameter`, `ApiVersionParameter`) do not resolve here: they are
    /// path and query parameters, never the body, so skipping them loses nothing.
    fn parameter(&self, file: &str, p: &Value) -> Option<(String, Value)> {
        match p.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(file, r).map(|(doc, v, _)| (doc, v.clone())),
            None => Some((file.to_string(), p.clone())),
        }
    }

    /// Records `allOf` parents and, for every definition with a `discriminator`, the wire value of each definition
    /// that inherits from it (transitively: a value names the leaf, whatever lies between).
    fn index_inheritance(&mut self) {
        let mut parents: HashMap<DefId, Vec<DefId>> = HashMap::new();
        for (file, doc) in &self.docs {
            for (name, def) in doc.get("definitions").and_then(Value::as_object).into_iter().flatten() {
                let ps = def
                    .get("allOf")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|part| part.get("$ref").and_then(Value::as_str))
                    .filter_map(|r| self.resolve(file, r))
                    .filter_map(|(doc, _, name)| name.map(|n| (doc, n)))
                    .collect();
                parents.insert((file.clone(), name.clone()), ps);
            }
        }
        self.parents = parents;
        let mut subtypes: HashMap<DefId, BTreeMap<String, DefId>> = HashMap::new();
        for id in self.parents.keys() {
            for ancestor in std::iter::once(id.clone()).chain(self.ancestors(id)) {
                if self.definition(&ancestor).get("discriminator").is_some() {
                    subtypes.entry(ancestor).or_default().insert(self.wire_value(id), id.clone());
                }
            }
        }
        self.subtypes = subtypes;
    }

    /// Every definition `id` inherits from, nearest first.
    fn ancestors(&self, id: &DefId) -> Vec<DefId> {
        let mut out: Vec<DefId> = Vec::new();
        let mut queue: Vec<DefId> = self.parents.get(id).cloned().unwrap_or_default();
        while !queue.is_empty() {
            let next = queue.remove(0);
            if !out.contains(&next) {
                queue.extend(self.parents.get(&next).cloned().unwrap_or_default());
                out.push(next);
            }
        }
        out
    }

    fn definition(&self, (doc, name): &DefId) -> &Value {
        &self.docs[doc]["definitions"][name]
    }

    /// What the discriminator says on the wire for `id`: `x-ms-discriminator-value`, else the definition's name.
    fn wire_value(&self, id: &DefId) -> String {
        self.definition(id).get("x-ms-discriminator-value").and_then(Value::as_str).unwrap_or(&id.1).to_string()
    }

    /// Resolves a `$ref` seen in `doc`: the file it lands in, the value, and the definition name when it points at
    /// `#/definitions/{name}`. `None` when the file is not loaded.
    fn resolve<'a>(&'a self, doc: &str, reference: &str) -> Option<(String, &'a Value, Option<String>)> {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        // Files are known by name: the loaded ones sit side by side, and the one reference that climbs out of the
        // folder (`../../../../../common-types/resource-management/v3/types.json`) is the stand-in.
        let file = if file.is_empty() { doc } else { file.rsplit('/').next().unwrap_or(file) };
        let target = self.docs.get(file)?.pointer(pointer)?;
        let name = pointer.strip_prefix("/definitions/").filter(|n| !n.contains('/')).map(str::to_string);
        Some((file.to_string(), target, name))
    }

    /// The operation for a request path below the ARM base (`/subscriptions/...`; no query). Literal segments
    /// compare case-insensitively, as ARM matches them (drift-sandbox README, "Routes"; ARM's RPC says resource
    /// types and names are case-insensitive — from memory); with several matches the most literal template wins.
    pub fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.operations
            .iter()
            .filter(|op| op.method.eq_ignore_ascii_case(method) && op.segments.len() == segments.len())
            .filter(|op| {
                op.segments.iter().zip(&segments).all(|(template, actual)| match template {
                    Some(literal) => literal.eq_ignore_ascii_case(actual),
                    None => !actual.is_empty(),
                })
            })
            .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
    }

    /// The operation with this `operationId`.
    pub fn operation_by_id(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.id == id)
    }

    /// Checks one request: the spec must have the operation, and the body must be what its body parameter says
    /// (absent when it has none, present when it is required). Returns the operation on success.
    pub fn check_request(&self, method: &str, path: &str, body: &[u8]) -> Result<&Operation, Vec<Violation>> {
        let violation = |rule, message| vec![Violation { path: "$".into(), rule, message }];
        let Some(op) = self.operation(method, path) else {
            return Err(violation("operation", format!("the spec has no operation for {method} {path}")));
        };
        match (&op.body, body.is_empty()) {
            (None, true) => Ok(op),
            (None, false) => {
                Err(violation("body", format!("{} takes no body, but {} bytes were sent", op.id, body.len())))
            }
            (Some(param), true) if param.required => {
                Err(violation("body", format!("{} requires a body, none was sent", op.id)))
            }
            (Some(_), true) => Ok(op),
            (Some(param), false) => {
                let value: Value = match serde_json::from_slice(body) {
                    Ok(v) => v,
                    Err(e) => return Err(violation("body", format!("the body is not JSON: {e}"))),
                };
                let mut walk = Walk { spec: self, out: Vec::new() };
                walk.schema(&param.doc, &param.schema, &value, "$", &op.id);
                if walk.out.is_empty() { Ok(op) } else { Err(walk.out) }
            }
        }
    }

    /// Checks `value` against `definitions/{name}` of mfe.json (or the first loaded file that has it).
    pub fn check_definition(&self, name: &str, value: &Value) -> Vec<Violation> {
        let root = json!({"$ref": format!("#/definitions/{name}")});
        let mut walk = Walk { spec: self, out: Vec::new() };
        walk.schema("mfe.json", &root, value, "$", name);
        walk.out
    }

    /// Every `$ref` reachable from the body schema of `operation_id` resolves (so no part of a body goes unchecked
    /// because a file is missing). Returns the ones that do not.
    pub fn unresolved_refs(&self, operation_id: &str) -> Vec<String> {
        let op = self.operation_by_id(operation_id).expect("operation exists");
        let mut seen = BTreeSet::new();
        let mut missing = Vec::new();
        let mut stack: Vec<(String, Value)> = op.body.iter().map(|b| (b.doc.clone(), b.schema.clone())).collect();
        while let Some((doc, schema)) = stack.pop() {
            let mut refs = Vec::new();
            collect_refs(&schema, &mut refs);
            for r in refs {
                match self.resolve(&doc, &r) {
                    Some((file, target, name)) => {
                        if seen.insert((file.clone(), r.clone(), name.clone())) {
                            stack.push((file.clone(), target.clone()));
                            // Subtypes are reached through the discriminator, not through a `$ref`.
                            if let Some(sub) = name.and_then(|n| self.subtypes.get(&(file, n))) {
                                for id in sub.values() {
                                    stack.push((id.0.clone(), self.definition(id).clone()));
                                }
                            }
                        }
                    }
                    None => missing.push(format!("{doc}: {r}")),
                }
            }
        }
        missing
    }

    /// The wire values a discriminator root accepts, e.g. `("JobBase")` → `AutoML, Command, Pipeline, ...`.
    pub fn discriminator_values(&self, root: &str) -> Vec<String> {
        self.subtypes
            .get(&("mfe.json".to_string(), root.to_string()))
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn regex(&self, pattern: &str) -> Regex {
        let mut cache = self.patterns.lock().unwrap();
        cache
            .entry(pattern.to_string())
            .or_insert_with(|| Regex::new(pattern).unwrap_or_else(|e| panic!("spec pattern {pattern:?}: {e}")))
            .clone()
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                out.push(r.to_string());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// A definition (or inline schema) with its `allOf` parents folded in.
struct Flat<'s> {
    /// Member name → (file, schema); a definition's own members come before inherited ones and win.
    properties: BTreeMap<&'s str, (String, &'s Value)>,
    required: BTreeSet<&'s str>,
    /// The schema's own `additionalProperties` only (see the module header).
    additional: Option<(String, &'s Value)>,
}

/// One validation run, collecting violations.
struct Walk<'s> {
    spec: &'s Spec,
    out: Vec<Violation>,
}

impl<'s> Walk<'s> {
    fn fail(&mut self, path: &str, rule: &'static str, message: String) {
        self.out.push(Violation { path: path.to_string(), rule, message });
    }

    /// Checks `value` at `path` against `schema` found in `doc`; `owner` names the definition for messages.
    fn schema(&mut self, doc: &str, schema: &'s Value, value: &Value, path: &str, owner: &str) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let spec = self.spec;
            let Some((file, target, name)) = spec.resolve(doc, reference) else {
                panic!("{doc}: $ref {reference} does not resolve; load the file it points into");
            };
            if value.is_null() {
                // A `$ref`'s sibling `x-nullable` (the spec's usual way: `"$ref": ..., "x-nullable": true`) or the
                // definition's own.
                if !(nullable(schema) || nullable(target)) {
                    self.fail(path, "x-nullable", format!("null is not allowed for {reference} (no x-nullable: true)"));
                }
                return;
            }
            match name {
                Some(name) => self.definition(&(file, name), value, path),
                None => self.schema(&file, target, value, path, owner),
            }
            return;
        }
        if value.is_null() {
            if !nullable(schema) {
                self.fail(path, "x-nullable", format!("null is not allowed here in {owner} (no x-nullable: true)"));
            }
            return;
        }
        self.keywords(doc, schema, value, path, owner);
    }

    /// A value checked against a named definition: first pick the subtype its discriminator names.
    fn definition(&mut self, id: &DefId, value: &Value, path: &str) {
        let spec = self.spec;
        let mut target = id.clone();
        let root = std::iter::once(id.clone())
            .chain(spec.ancestors(id))
            .find(|a| spec.definition(a).get("discriminator").is_some());
        if let (Some(root), Some(object)) = (root, value.as_object()) {
            let property = spec.definition(&root)["discriminator"].as_str().unwrap_or_default();
            if let Some(Value::String(wire)) = object.get(property) {
                let known = &spec.subtypes[&root];
                match known.get(wire) {
                    None => {
                        let values: Vec<&str> = known.keys().map(String::as_str).collect();
                        self.fail(
                            &child(path, property),
                            "discriminator",
                            format!("{wire:?} is not a {} {property}; known: {}", root.1, values.join(", ")),
                        );
                        return;
                    }
                    Some(sub) if sub == id || spec.ancestors(sub).contains(id) => target = sub.clone(),
                    Some(sub) => {
                        self.fail(
                            &child(path, property),
                            "discriminator",
                            format!("{wire:?} selects {}, which is not a {}", sub.1, id.1),
                        );
                        return;
                    }
                }
            }
            // A missing or non-string discriminator is reported by `required` / `type` below.
        }
        let schema = spec.definition(&target);
        self.keywords(&target.0, schema, value, path, &target.1);
    }

    /// The keywords of one (non-`$ref`, non-null) schema.
    fn keywords(&mut self, doc: &str, schema: &'s Value, value: &Value, path: &str, owner: &str) {
        if let Some(expected) = schema.get("type").and_then(Value::as_str) {
            let ok = match expected {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "boolean" => value.is_boolean(),
                // JSON Schema draft 4: an integer is a number without a fraction or exponent part.
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                _ => true,
            };
            if !ok {
                self.fail(path, "type", format!("expected {expected} in {owner}, got {}", kind(value)));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            self.fail(path, "enum", format!("{value} is not one of {}", list.join(", ")));
        }
        if let Some(text) = value.as_str() {
            self.string(schema, text, path);
        }
        if let (Some(format), Some(n)) = (schema.get("format").and_then(Value::as_str), value.as_i64()) {
            let fits = match format {
                "int32" => i32::try_from(n).is_ok(),
                _ => true,
            };
            if !fits {
                self.fail(path, "format", format!("{n} does not fit {format}"));
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                self.schema(doc, items, item, &format!("{path}[{i}]"), owner);
            }
        }
        let shaped =
            ["properties", "allOf", "additionalProperties", "required"].iter().any(|k| schema.get(k).is_some());
        if let (true, Some(object)) = (shaped, value.as_object()) {
            let mut flat = Flat { properties: BTreeMap::new(), required: BTreeSet::new(), additional: None };
            flat.additional = schema.get("additionalProperties").map(|a| (doc.to_string(), a));
            self.fold(doc, schema, &mut flat);
            self.object(&flat, object, path, owner);
        }
    }

    fn string(&mut self, schema: &Value, text: &str, path: &str) {
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && (text.chars().count() as u64) < min
        {
            self.fail(path, "minLength", format!("{text:?} is shorter than {min}"));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && !self.spec.regex(pattern).is_match(text)
        {
            self.fail(path, "pattern", format!("{text:?} does not match {pattern:?}"));
        }
        let ok = match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => is_uuid(text),
            Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            _ => true,
        };
        if !ok {
            let format = schema["format"].as_str().unwrap_or_default();
            self.fail(path, "format", format!("{text:?} is not a {format}"));
        }
    }

    /// Folds `schema`'s members, then its `allOf` parents' (own members win), into `flat`.
    fn fold(&self, doc: &str, schema: &'s Value, flat: &mut Flat<'s>) {
        for (name, member) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            flat.properties.entry(name.as_str()).or_insert_with(|| (doc.to_string(), member));
        }
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            flat.required.extend(name.as_str());
        }
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            match part.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let spec = self.spec;
                    let (file, target, _) = spec
                        .resolve(doc, reference)
                        .unwrap_or_else(|| panic!("{doc}: allOf $ref {reference} does not resolve"));
                    self.fold(&file, target, flat);
                }
                None => self.fold(doc, part, flat),
            }
        }
    }

    fn object(&mut self, flat: &Flat<'s>, object: &Map<String, Value>, path: &str, owner: &str) {
        for name in &flat.required {
            if !object.contains_key(*name) {
                self.fail(&child(path, name), "required", format!("{owner} requires {name:?}"));
            }
        }
        for (name, member) in object {
            let at = child(path, name);
            if let Some((doc, schema)) = flat.properties.get(name.as_str()) {
                if schema.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    self.fail(&at, "readOnly", format!("{owner}.{name} is read-only and must not be sent"));
                    continue;
                }
                if let Some(modes) = schema.get("x-ms-mutability").and_then(Value::as_array)
                    && !modes.iter().any(|m| m == "create" || m == "update")
                {
                    self.fail(&at, "x-ms-mutability", format!("{owner}.{name} is {modes:?}: it cannot be written"));
                    continue;
                }
                self.schema(doc, schema, member, &at, owner);
                continue;
            }
            match &flat.additional {
                Some((_, Value::Bool(false))) => {
                    let known: Vec<&str> = flat.properties.keys().copied().collect();
                    self.fail(
                        &at,
                        "additionalProperties",
                        format!(
                            "{owner} has no member {name:?} (additionalProperties: false); it has: {}",
                            known.join(", ")
                        ),
                    );
                }
                Some((doc, schema @ Value::Object(_))) => self.schema(doc, schema, member, &at, owner),
                _ => {}
            }
        }
    }
}

fn nullable(schema: &Value) -> bool {
    schema.get("x-nullable").and_then(Value::as_bool) == Some(true)
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `$.a.b`, or `$.a["odd key"]` for keys that are not identifiers.
fn child(path: &str, key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { format!("{path}.{key}") } else { format!("{path}[{}]", Value::from(key)) }
}
