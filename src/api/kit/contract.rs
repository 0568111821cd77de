//! The OpenAPI document as the judge of every request. A JSON body or a query string is checked
//! against the schema the document gives its operation (JSON Schema 2020-12, formats asserted)
//! before anything else reads it: what the document rejects is answered 422 `validation_failed`
//! listing every wrong field, and what it accepts is never answered `validation_failed` — a
//! schema-valid request the domain refuses carries the domain's own code. So the document a
//! client is generated from and the service cannot drift apart.
//!
//! Messages are written from the kind of each error and the schema, never from the value sent
//! (which could hold a CPR number).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Map, Value};

use crate::domain::FieldError;
use crate::error::AppError;

/// What the document says of one operation's input.
struct Operation {
    body: Option<Validator>,
    /// The query string as an object: every parameter a property, unknown ones refused.
    query: Option<Validator>,
    /// Each query parameter's JSON type, to read its text as the document means it.
    query_types: HashMap<String, &'static str>,
}

pub struct Contract {
    operations: HashMap<(String, String), Operation>,
}

static CONTRACT: OnceLock<Contract> = OnceLock::new();

/// Compiles the document's contract, once: the application calls it with the document it
/// serves before the first request (later calls change nothing).
pub fn install(document: &Value) {
    CONTRACT.get_or_init(|| Contract::compile(document));
}

/// The contract every request is judged by; [`install`] set it when the application was built.
pub fn contract() -> &'static Contract {
    CONTRACT.get().expect("the contract is installed when the application is built")
}

/// A date the service accepts: `YYYY-MM-DD` from 1900-01-01 to 9999-12-31 (the calendar check
/// is `format: date`'s).
pub const DATE_PATTERN: &str = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// An instant the service accepts: RFC 3339 in UTC (`Z`, or an offset of `+00:00`), from
/// 1900-01-01 to 9999-12-31. In UTC only, so the instant stored is the one written: an offset
/// could carry `9999-12-31T23:59-01:00` into the year 10000.
pub const DATE_TIME_PATTERN: &str = "^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]\
     ([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?([Zz]|[+-]00:00)$";
/// Text a client sends may hold anything but NUL, which PostgreSQL cannot store.
pub const NO_NUL_PATTERN: &str = "^[^\\u0000]*$";
/// Text that must not be blank (nor hold NUL). Blank is Unicode White_Space, the set the service
/// trims (Rust's `char::is_whitespace`), spelled out: `\\s` means other sets in other regex
/// engines (U+0085 is not whitespace in ECMA-262, U+FEFF is), and a client must get the same
/// verdict from the document as from the service.
pub const NOT_BLANK_PATTERN: &str = "^[^\\u0000]*\
     [^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]\
     [^\\u0000]*$";

/// The component schemas `v` refers to (`$ref: #/components/schemas/<name>`), by name.
pub fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.extend(r.strip_prefix("#/components/schemas/").map(str::to_string)),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

impl Contract {
    fn compile(doc: &Value) -> Contract {
        let schemas = &doc["components"]["schemas"];
        let mut operations = HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
                let body = (!body.is_null()).then(|| compile(&body, schemas));
                let mut properties = Map::new();
                let mut required = Vec::new();
                let mut query_types = HashMap::new();
                for param in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query") {
                    let name = param["name"].as_str().unwrap_or_default().to_string();
                    query_types.insert(name.clone(), json_type(&param["schema"], schemas));
                    properties.insert(name.clone(), param["schema"].clone());
                    if param["required"] == true {
                        required.push(json!(name));
                    }
                }
                // Unknown parameters are the service's own refusal (`unexpected_parameter`): the
                // document has no way to forbid them.
                let query = json!({"type": "object", "properties": properties, "required": required});
                let query = Some(compile(&query, schemas));
                operations.insert((method.to_uppercase(), path.clone()), Operation { body, query, query_types });
            }
        }
        Contract { operations }
    }

    /// Whether the document has the operation (`method`, route template).
    pub fn knows(&self, method: &str, template: &str) -> bool {
        self.operations.contains_key(&(method.to_string(), template.to_string()))
    }

    /// Checks a parsed JSON body against its operation's request schema.
    pub fn check_body(&self, method: &str, template: &str, body: &Value) -> Result<(), AppError> {
        let Some(Operation { body: Some(validator), .. }) = self.operation(method, template) else {
            return Ok(());
        };
        verdict(validator.iter_errors(body).flat_map(|e| describe(&e, "")).collect())
    }

    /// Checks a query string against its operation's parameters: each value read as the type the
    /// document gives it, unknown and repeated parameters refused.
    pub fn check_query(&self, method: &str, template: &str, query: &str) -> Result<(), AppError> {
        let Some(op) = self.operation(method, template) else {
            return Ok(());
        };
        let Some(validator) = &op.query else { return Ok(()) };
        let mut object = Map::new();
        let mut unexpected = Vec::new();
        for (name, text) in form_urlencoded::parse(query.as_bytes()) {
            let value = match op.query_types.get(name.as_ref()).copied() {
                Some("integer") => text.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(text)),
                Some("number") => text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or_else(|| json!(text)),
                Some("boolean") => match text.as_ref() {
                    "true" => json!(true),
                    "false" => json!(false),
                    _ => json!(text),
                },
                _ => json!(text),
            };
            let known = op.query_types.contains_key(name.as_ref());
            let field = if known || plain(&name) { name.to_string() } else { "query".to_string() };
            if !known {
                unexpected.push(FieldError::new(field, "is not a parameter of this operation"));
            } else if object.insert(name.to_string(), value).is_some() {
                unexpected.push(FieldError::new(field, "is given more than once"));
            }
        }
        let object = Value::Object(object);
        verdict(validator.iter_errors(&object).flat_map(|e| describe(&e, "")).collect())?;
        if unexpected.is_empty() {
            Ok(())
        } else {
            Err(AppError::UnexpectedParameter(unexpected))
        }
    }

    fn operation(&self, method: &str, template: &str) -> Option<&Operation> {
        self.operations.get(&(method.to_string(), template.to_string()))
    }
}

fn verdict(mut errors: Vec<FieldError>) -> Result<(), AppError> {
    if errors.is_empty() {
        return Ok(());
    }
    // One message per field: a date both malformed and out of range is one wrong field.
    let mut seen = HashSet::new();
    errors.retain(|e| seen.insert(e.field.clone()));
    Err(AppError::Validation(errors))
}

/// A validator for `schema`, with the component schemas it refers to (and only those).
fn compile(schema: &Value, schemas: &Value) -> Validator {
    let mut needed = HashSet::new();
    let mut todo = Vec::new();
    refs(schema, &mut todo);
    while let Some(name) = todo.pop() {
        if needed.insert(name.clone()) {
            refs(&schemas[&name], &mut todo);
        }
    }
    let components: Map<String, Value> = needed.into_iter().map(|n| (n.clone(), schemas[&n].clone())).collect();
    let root = json!({"components": {"schemas": components}, "allOf": [schema]});
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("the document's schemas compile")
}

/// The JSON type of a parameter's schema (through one `$ref`).
fn json_type(schema: &Value, schemas: &Value) -> &'static str {
    let schema = match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &schemas[name],
        None => schema,
    };
    let kind = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(types) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("string"),
        _ => "string",
    };
    match kind {
        "integer" => "integer",
        "number" => "number",
        "boolean" => "boolean",
        _ => "string",
    }
}

/// A name we may repeat in an error: a plain identifier that cannot hold a CPR number.
fn plain(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        && !name.bytes().all(|b| b.is_ascii_digit())
}

/// `/plan/goals/0/description` → `plan.goals[0].description`; cut at a segment not of ours.
fn field(pointer: &str, prefix: &str) -> String {
    let mut out = prefix.to_string();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) && segment.len() < 10 {
            out.push_str(&format!("[{segment}]"));
        } else if plain(&segment) {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        } else {
            break;
        }
    }
    out
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn or_body(path: String) -> String {
    if path.is_empty() {
        "body".to_string()
    } else {
        path
    }
}

fn types(kind: &TypeKind) -> String {
    let names: Vec<String> = match kind {
        TypeKind::Single(t) => vec![t.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    names.join(" or ")
}

fn limit(v: &Value) -> String {
    v.to_string()
}

/// Our message for one error of the schema, at its field.
fn describe(e: &ValidationError<'_>, prefix: &str) -> Vec<FieldError> {
    let at = field(e.instance_path().as_str(), prefix);
    let one = |message: String| vec![FieldError::new(or_body(at.clone()), message)];
    match e.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().filter(|n| plain(n)).unwrap_or_default();
            vec![FieldError::new(or_body(join(&at, name)), "is required")]
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| {
                let path = if plain(name) { join(&at, name) } else { at.clone() };
                FieldError::new(or_body(path), "unknown field: the request names a field this API does not have")
            })
            .collect(),
        ValidationErrorKind::Type { kind } => one(format!("must be {}", types(kind))),
        ValidationErrorKind::MinLength { limit } => one(format!("must be at least {limit} characters")),
        ValidationErrorKind::MaxLength { limit } => one(format!("must be at most {limit} characters")),
        ValidationErrorKind::Pattern { pattern } => one(match pattern.as_str() {
            DATE_PATTERN => "must be a date YYYY-MM-DD from 1900-01-01 to 9999-12-31".to_string(),
            DATE_TIME_PATTERN => "must be an RFC 3339 time in UTC (Z) from 1900-01-01 to 9999-12-31".to_string(),
            NO_NUL_PATTERN => "must not contain the NUL character (\\u0000)".to_string(),
            NOT_BLANK_PATTERN => "must not be blank (nor contain the NUL character)".to_string(),
            _ => "does not have the form the API describes (see its pattern)".to_string(),
        }),
        ValidationErrorKind::Format { format } => one(format!("must be a valid {format}")),
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> =
                options.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
            one(format!("must be one of: {}", options.join(", ")))
        }
        ValidationErrorKind::Constant { .. } => one("is not the value the API expects".into()),
        ValidationErrorKind::Minimum { limit: l } => one(format!("must be at least {}", limit(l))),
        ValidationErrorKind::Maximum { limit: l } => one(format!("must be at most {}", limit(l))),
        ValidationErrorKind::ExclusiveMinimum { limit: l } => one(format!("must be more than {}", limit(l))),
        ValidationErrorKind::ExclusiveMaximum { limit: l } => one(format!("must be less than {}", limit(l))),
        ValidationErrorKind::MinItems { limit } => one(format!("must have at least {limit} items")),
        ValidationErrorKind::MaxItems { limit } => one(format!("must have at most {limit} items")),
        ValidationErrorKind::MinProperties { .. } => one("must name at least one field".into()),
        ValidationErrorKind::MaxProperties { limit } => one(format!("must name at most {limit} fields")),
        ValidationErrorKind::UniqueItems => one("must not repeat an item".into()),
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            // `X or null`: the branch that is not null says what is wrong; otherwise the branch
            // that came closest.
            let branch = context
                .iter()
                .filter(|errors| !errors.iter().all(|e| matches!(e.kind(), ValidationErrorKind::Type { .. })))
                .min_by_key(|errors| errors.len())
                .or_else(|| context.first());
            match branch {
                Some(errors) if !errors.is_empty() => errors.iter().flat_map(|e| describe(e, prefix)).collect(),
                _ => one("does not match any form the API describes".into()),
            }
        }
        _ => one("is not valid".into()),
    }
}
