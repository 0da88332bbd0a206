//! The deployment templates (`deploy/*.yaml`) against the binary: the IAM actions each role is
//! granted must be exactly the AWS calls the scanner makes, and the configuration the service
//! template writes must be one the binary accepts.
//!
//! How the templates are read: `serde_yaml_ng` parses them into a `Value` tree that keeps
//! CloudFormation's short-form tags (`!Sub`, `!Ref`, `!If`, `!GetAtt`, …) as `Value::Tagged`;
//! [`intrinsic`] gives those and the long form (`{"Fn::Sub": …}`) one shape. The grants of a
//! role are read structurally: every statement of every policy document attached to it (its
//! `Policies`, and any `AWS::IAM::Policy`/`ManagedPolicy`/`RolePolicy` resource that names it),
//! for given parameter values: a policy or statement wrapped in `!If` is the branch its
//! condition picks, a policy resource with a `Condition` counts only when it holds. Each
//! template is checked with `AllowResendValidationEmail` off (the scan's calls exactly) and on
//! (those and the one write, `acm:ResendValidationEmail`, measured by resending in process
//! against the simulator). A role with `ManagedPolicyArns`, a statement
//! with `NotAction`, an action that is not a plain string, or an action with a wildcard fails
//! the test: such grants cannot be compared with a list of calls. The configuration is rendered
//! by [`Eval`], a small evaluator of the intrinsic functions the template uses, from sample
//! parameters, and given to `certwatch check-config` through `CERTWATCH_CONFIG_TOML`, as ECS does.

use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MEMBER_TEMPLATE: &str = "member-role.yaml";
const SERVICE_TEMPLATE: &str = "certwatch-service.yaml";
/// Logical ids of the roles certwatch runs as.
const MEMBER_ROLE: &str = "MemberRole";
const TASK_ROLE: &str = "TaskRole";

/// Needs no IAM permission: STS answers it for any valid credentials, and an explicit deny
/// cannot block it. The scanner calls it first, to learn which account it runs in.
const NEEDS_NO_PERMISSION: &[&str] = &["sts:GetCallerIdentity"];

/// certwatch's one write to AWS, granted only when [`ALLOW_RESEND`] is "true".
const RESEND: &str = "acm:ResendValidationEmail";
/// The parameter of both templates that grants [`RESEND`].
const ALLOW_RESEND: &str = "AllowResendValidationEmail";

/// Parameters of the member template without a default, with sample values.
const MEMBER_REQUIRED: &[(&str, &str)] = &[("CertwatchAccountId", "210987654321")];

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn template(name: &str) -> Value {
    let path = deploy_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// `!Sub x` / `{"Fn::Sub": x}` → `("Fn::Sub", x)`; `!Ref x` / `{"Ref": x}` → `("Ref", x)`;
/// `!Condition x` → `("Condition", x)`. None for anything else.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let name = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            Some((name, &tagged.value))
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key == "Condition" || key.starts_with("Fn::"))
                .then(|| (key.to_owned(), arg))
        }
        _ => None,
    }
}

fn is_no_value(value: &Value) -> bool {
    matches!(intrinsic(value), Some((name, arg)) if name == "Ref" && arg.as_str() == Some("AWS::NoValue"))
}

/// The alternatives a value may take: both branches of `!If`, none for `AWS::NoValue`.
fn alternatives(value: &Value) -> Vec<&Value> {
    match intrinsic(value) {
        Some((name, Value::Sequence(args))) if name == "Fn::If" && args.len() == 3 => {
            args[1..].iter().flat_map(alternatives).collect()
        }
        _ if is_no_value(value) => Vec::new(),
        _ => vec![value],
    }
}

fn get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_mapping()?.get(key)
}

fn resources(template: &Value) -> &Mapping {
    get(template, "Resources")
        .and_then(Value::as_mapping)
        .expect("template has Resources")
}

/// A value as a human reads it in the template: plain strings as they are, `!Sub` as its
/// pattern, `!Ref X` as `${X}`.
fn shown(value: &Value) -> String {
    match (value, intrinsic(value)) {
        (Value::String(s), _) => s.clone(),
        (_, Some((name, Value::String(s)))) if name == "Fn::Sub" => s.clone(),
        (_, Some((name, Value::String(s)))) if name == "Ref" => format!("${{{s}}}"),
        (_, Some((name, Value::String(s)))) if name == "Fn::GetAtt" => format!("${{{s}}}"),
        _ => format!("{value:?}"),
    }
}

/// Does `value` refer to the resource `logical_id` (`!Ref`, or the role name/ARN via `!GetAtt`)?
fn refers_to(value: &Value, logical_id: &str) -> bool {
    match intrinsic(value) {
        Some((name, arg)) if name == "Ref" => arg.as_str() == Some(logical_id),
        Some((name, Value::String(s))) if name == "Fn::GetAtt" => {
            s.split('.').next() == Some(logical_id)
        }
        Some((name, Value::Sequence(args))) if name == "Fn::GetAtt" => {
            args.first().and_then(Value::as_str) == Some(logical_id)
        }
        _ => false,
    }
}

/// The Allow grants of one role for these parameter values (defaults for the others): action →
/// the resources it is granted on (as [`shown`]).
fn role_grants(
    template: &Value,
    role_id: &str,
    values: &[(&str, &str)],
) -> BTreeMap<String, BTreeSet<String>> {
    let eval = Eval::new(template, values);
    let resources = resources(template);
    let role = resources
        .get(role_id)
        .unwrap_or_else(|| panic!("no resource {role_id}"));
    assert_eq!(
        get(role, "Type").and_then(Value::as_str),
        Some("AWS::IAM::Role"),
        "{role_id} is not an IAM role"
    );
    let props = get(role, "Properties").expect("role has Properties");
    assert!(
        get(props, "ManagedPolicyArns").is_none(),
        "{role_id}: managed policies cannot be checked here; write the statements inline"
    );

    let mut documents: Vec<(String, &Value)> = Vec::new();
    if let Some(policies) = get(props, "Policies") {
        for policy in policies.as_sequence().expect("Policies is a list") {
            for policy in eval.chosen(policy) {
                let name = get(policy, "PolicyName").map(shown).unwrap_or_default();
                let doc = get(policy, "PolicyDocument").expect("policy has a PolicyDocument");
                documents.push((format!("{role_id}/{name}"), doc));
            }
        }
    }
    // Policies declared as resources of their own that attach to this role.
    for (id, resource) in resources {
        let id = id.as_str().unwrap_or_default();
        let kind = get(resource, "Type").and_then(Value::as_str).unwrap_or("");
        if !matches!(
            kind,
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy"
        ) {
            continue;
        }
        let Some(props) = get(resource, "Properties") else {
            continue;
        };
        let created = get(resource, "Condition")
            .and_then(Value::as_str)
            .is_none_or(|condition| eval.condition(condition));
        if !created {
            continue;
        }
        let by_list = get(props, "Roles")
            .and_then(Value::as_sequence)
            .is_some_and(|roles| roles.iter().any(|r| refers_to(r, role_id)));
        let by_name = get(props, "RoleName").is_some_and(|r| refers_to(r, role_id));
        if by_list || by_name {
            let doc = get(props, "PolicyDocument").expect("policy has a PolicyDocument");
            documents.push((id.to_owned(), doc));
        }
    }
    assert!(!documents.is_empty(), "{role_id} has no policy");

    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (where_, doc) in documents {
        let statements = get(doc, "Statement").expect("policy document has Statement");
        let statements: Vec<&Value> = match statements {
            Value::Sequence(list) => list.iter().flat_map(|s| eval.chosen(s)).collect(),
            single => eval.chosen(single),
        };
        for statement in statements {
            let sid = get(statement, "Sid").map(shown).unwrap_or_default();
            let at = format!("{where_} statement {sid:?}");
            assert!(
                get(statement, "NotAction").is_none() && get(statement, "NotResource").is_none(),
                "{at}: NotAction/NotResource grant more than they name"
            );
            match get(statement, "Effect").and_then(Value::as_str) {
                Some("Allow") => {}
                Some("Deny") => continue,
                other => panic!("{at}: Effect {other:?}"),
            }
            let actions: Vec<&Value> = match get(statement, "Action") {
                Some(Value::Sequence(list)) => list.iter().collect(),
                Some(single) => vec![single],
                None => panic!("{at}: no Action"),
            };
            let targets: Vec<String> = match get(statement, "Resource") {
                Some(Value::Sequence(list)) => list.iter().map(shown).collect(),
                Some(single) => vec![shown(single)],
                None => panic!("{at}: no Resource"),
            };
            for action in actions {
                let action = action
                    .as_str()
                    .unwrap_or_else(|| panic!("{at}: action {action:?} is not a plain string"));
                assert!(
                    !action.contains(['*', '?']),
                    "{at}: {action}: name exact actions, not patterns"
                );
                grants
                    .entry(action.to_owned())
                    .or_default()
                    .extend(targets.iter().cloned());
            }
        }
    }
    grants
}

fn actions(grants: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    grants.keys().cloned().collect()
}

/// The IAM service prefix of an action: `acm` of `acm:ListCertificates`.
fn service(action: &str) -> &str {
    action.split(':').next().unwrap_or(action)
}

/// Calls made only from the account certwatch runs in, never inside a member: listing the
/// organization and assuming the member roles. Everything else (ACM, Account) is called inside
/// each member with the member role, and in certwatch's own account with the task role.
fn management_only(action: &str) -> bool {
    matches!(service(action), "organizations" | "sts")
}

fn certwatch(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_certwatch"));
    command
        .args(args)
        .env_remove("CERTWATCH_CONFIG")
        .env_remove("CERTWATCH_CONFIG_TOML")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run certwatch")
}

/// `stats.calls_by_action` of a demo scan: every IAM action the scanner called, measured at
/// the wire. The demo exercises every call path (a denied role, regions from ListRegions, each
/// account's OU path and tags, …).
fn demo_calls() -> BTreeSet<String> {
    let out = certwatch(&["demo", "--format", "json"], &[]);
    assert!(
        out.status.success(),
        "certwatch demo failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("demo --format json prints JSON");
    let by_action = report["stats"]["calls_by_action"]
        .as_object()
        .expect("the report has stats.calls_by_action");
    by_action
        .iter()
        .filter(|(_, count)| count.as_u64().unwrap_or(0) > 0)
        .map(|(action, _)| action.clone())
        .collect()
}

/// The IAM actions of the one write, measured at the wire as [`demo_calls`] are: a `Resender`
/// in process against the demo's simulator resends the validation email of its
/// PENDING_VALIDATION_EMAIL certificate (campaign.example.org, in a member account).
async fn resend_calls() -> BTreeSet<String> {
    use crate::support::sim;
    let now = chrono::Utc::now();
    let server = sim::start(
        certwatch_sim::Scenario::demo(),
        now,
        certwatch_sim::Behaviour::default(),
    )
    .await;
    let config = sim::scan_config(&["us-east-1"], std::time::Duration::from_secs(10));
    let report = sim::scan(&server, &config, now).await;
    let campaign = report
        .certificates
        .iter()
        .find(|r| r.facts.domain_name.as_deref() == Some("campaign.example.org"))
        .expect("the demo has a certificate pending email validation");
    let facts = &campaign.facts;
    let resender = certwatch_scanner::Resender::new(&sim::sdk_config(&server).await, &config)
        .await
        .expect("credentials");
    let resent = resender
        .resend(&facts.account_id, &facts.region, &facts.arn)
        .await
        .expect("resent");
    assert!(
        !resent.sent.is_empty() && resent.not_sent.is_none(),
        "{resent:?}"
    );
    assert_eq!(server.resends().len(), resent.sent.len());
    server.shutdown().await;
    resender
        .calls_by_action()
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(action, _)| action)
        .collect()
}

/// `calls` less what needs no permission; and of those, the ones made inside member accounts.
fn sides(calls: &BTreeSet<String>) -> (BTreeSet<String>, BTreeSet<String>) {
    let needs_permission: BTreeSet<String> = calls
        .iter()
        .filter(|a| !NEEDS_NO_PERMISSION.contains(&a.as_str()))
        .cloned()
        .collect();
    let member_side = needs_permission
        .iter()
        .filter(|a| !management_only(a))
        .cloned()
        .collect();
    (needs_permission, member_side)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_grant_exactly_the_calls_the_scanner_makes() {
    let called = tokio::task::spawn_blocking(demo_calls)
        .await
        .expect("demo runs");
    for expected in [
        "organizations:ListAccounts",
        "sts:AssumeRole",
        "acm:SearchCertificates",
        "acm:ListCertificates",
        // The demo learns each account's OU path and tags.
        "organizations:ListParents",
        "organizations:DescribeOrganizationalUnit",
        "organizations:ListTagsForResource",
    ] {
        assert!(
            called.contains(expected),
            "the demo did not call {expected}; called: {called:?}"
        );
    }
    assert!(!called.contains(RESEND), "a scan never calls {RESEND}");
    let resent = resend_calls().await;
    assert!(resent.contains(RESEND), "{resent:?}");
    let with_resend: BTreeSet<String> = called.union(&resent).cloned().collect();

    for (allow, calls) in [("false", &called), ("true", &with_resend)] {
        let (needs_permission, member_side) = sides(calls);
        let values = [MEMBER_REQUIRED, &[(ALLOW_RESEND, allow)]].concat();
        let member = actions(&role_grants(
            &template(MEMBER_TEMPLATE),
            MEMBER_ROLE,
            &values,
        ));
        assert_eq!(
            member, member_side,
            "{MEMBER_TEMPLATE} {MEMBER_ROLE} with {ALLOW_RESEND}={allow}: granted (left) vs \
             called inside member accounts (right)"
        );
        let values = [REQUIRED, &[(ALLOW_RESEND, allow)]].concat();
        let task = actions(&role_grants(
            &template(SERVICE_TEMPLATE),
            TASK_ROLE,
            &values,
        ));
        assert_eq!(
            task, needs_permission,
            "{SERVICE_TEMPLATE} {TASK_ROLE} with {ALLOW_RESEND}={allow}: granted (left) vs \
             called (right, less {NEEDS_NO_PERMISSION:?})"
        );
    }
    // Turning the parameter on adds exactly the one write, to both roles.
    for (name, role, required) in [
        (MEMBER_TEMPLATE, MEMBER_ROLE, MEMBER_REQUIRED),
        (SERVICE_TEMPLATE, TASK_ROLE, REQUIRED),
    ] {
        let template = template(name);
        let grants = |allow: &str| {
            role_grants(
                &template,
                role,
                &[required, &[(ALLOW_RESEND, allow)]].concat(),
            )
        };
        let (off, on) = (grants("false"), grants("true"));
        let added: Vec<&String> = on.keys().filter(|a| !off.contains_key(*a)).collect();
        assert_eq!(added, [RESEND], "{name} {role}");
        assert_eq!(
            on[RESEND],
            BTreeSet::from([
                "arn:${AWS::Partition}:acm:*:${AWS::AccountId}:certificate/*".to_owned()
            ]),
            "{name} {role}: the account's own certificates only"
        );
        assert_eq!(
            role_grants(&template, role, required),
            off,
            "{name}: {ALLOW_RESEND} is off by default"
        );
    }
}

#[test]
fn member_role_is_read_only_and_trusts_only_the_task_role() {
    let template = template(MEMBER_TEMPLATE);
    let grants = role_grants(&template, MEMBER_ROLE, MEMBER_REQUIRED);
    for action in grants.keys() {
        assert!(
            !management_only(action),
            "the member role must not grant {action}"
        );
        let verb = action.split(':').nth(1).unwrap_or_default();
        assert!(
            ["List", "Describe", "Get", "Search"]
                .iter()
                .any(|p| verb.starts_with(p)),
            "the member role must only read: {action}"
        );
    }
    // Allowed to resend, it writes that and nothing else.
    let values = [MEMBER_REQUIRED, &[(ALLOW_RESEND, "true")]].concat();
    let writes: Vec<String> = role_grants(&template, MEMBER_ROLE, &values)
        .into_keys()
        .filter(|action| !grants.contains_key(action))
        .collect();
    assert_eq!(writes, [RESEND]);

    let role = &resources(&template)[MEMBER_ROLE];
    let props = get(role, "Properties").expect("Properties");
    assert_eq!(
        get(props, "MaxSessionDuration").and_then(Value::as_u64),
        Some(3600)
    );
    let trust = get(props, "AssumeRolePolicyDocument").expect("trust policy");
    let statements = get(trust, "Statement")
        .and_then(Value::as_sequence)
        .expect("trust statements");
    assert_eq!(statements.len(), 1, "one trusted principal");
    let statement = &statements[0];
    assert_eq!(
        get(statement, "Action").and_then(Value::as_str),
        Some("sts:AssumeRole")
    );
    let principal = get(statement, "Principal").expect("Principal");
    assert_eq!(
        get(principal, "AWS").map(shown).as_deref(),
        Some("arn:${AWS::Partition}:iam::${CertwatchAccountId}:root"),
        "the certwatch account, narrowed by aws:PrincipalArn"
    );
    // Every alternative of the condition pins the principal to the task role; the external id
    // is required exactly when one is configured.
    let conditions = alternatives(get(statement, "Condition").expect("Condition"));
    assert_eq!(conditions.len(), 2, "with and without external id");
    let mut with_external_id = 0;
    for condition in conditions {
        let arn = get(condition, "ArnEquals")
            .and_then(|c| get(c, "aws:PrincipalArn"))
            .map(shown);
        assert_eq!(
            arn.as_deref(),
            Some("arn:${AWS::Partition}:iam::${CertwatchAccountId}:role/${TaskRoleName}")
        );
        if let Some(id) = get(condition, "StringEquals").and_then(|c| get(c, "sts:ExternalId")) {
            assert_eq!(shown(id), "${ExternalId}");
            with_external_id += 1;
        }
    }
    assert_eq!(with_external_id, 1);
}

#[test]
fn task_role_assumes_only_the_member_role() {
    let grants = role_grants(&template(SERVICE_TEMPLATE), TASK_ROLE, REQUIRED);
    let assume = grants
        .get("sts:AssumeRole")
        .expect("sts:AssumeRole granted");
    assert_eq!(
        assume,
        &BTreeSet::from(["arn:${AWS::Partition}:iam::*:role/${MemberRoleName}".to_owned()])
    );
}

#[test]
fn templates_agree_on_the_names_they_share() {
    let member = template(MEMBER_TEMPLATE);
    let service = template(SERVICE_TEMPLATE);
    for parameter in ["MemberRoleName", "TaskRoleName", "ExternalId", ALLOW_RESEND] {
        let default = |t: &Value| {
            get(t, "Parameters")
                .and_then(|p| get(p, parameter))
                .and_then(|p| get(p, "Default"))
                .cloned()
        };
        assert_eq!(
            default(&member),
            default(&service),
            "default of {parameter} differs between the templates"
        );
    }
}

// ── The configuration the service template writes ──────────────────────────────────────────

/// Evaluates the intrinsic functions the service template uses (Ref, Sub, If, Join, Split,
/// Select, Equals, Not, FindInMap, conditions) for given parameter values.
struct Eval<'t> {
    template: &'t Value,
    parameters: BTreeMap<String, String>,
}

impl<'t> Eval<'t> {
    /// Parameter defaults, overridden by `values`; every parameter must end up with a value.
    fn new(template: &'t Value, values: &[(&str, &str)]) -> Eval<'t> {
        let mut parameters = BTreeMap::new();
        let declared = get(template, "Parameters")
            .and_then(Value::as_mapping)
            .expect("Parameters");
        for (name, spec) in declared {
            let name = name.as_str().expect("parameter name").to_owned();
            if let Some(default) = get(spec, "Default") {
                parameters.insert(name, scalar(default));
            }
        }
        for (name, value) in values {
            assert!(
                declared.contains_key(*name),
                "no parameter {name} in the template"
            );
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        for name in declared.keys() {
            let name = name.as_str().unwrap_or_default();
            assert!(
                parameters.contains_key(name),
                "no value for parameter {name}"
            );
        }
        parameters.insert("AWS::StackName".into(), "certwatch".into());
        parameters.insert("AWS::Region".into(), "ap-northeast-1".into());
        parameters.insert("AWS::Partition".into(), "aws".into());
        parameters.insert("AWS::AccountId".into(), "210987654321".into());
        Eval {
            template,
            parameters,
        }
    }

    fn reference(&self, name: &str) -> Value {
        let value = self
            .parameters
            .get(name)
            .unwrap_or_else(|| panic!("Ref {name}: not a parameter (resources are not evaluated)"));
        let spec = get(self.template, "Parameters").and_then(|p| get(p, name));
        let is_list = spec
            .and_then(|s| get(s, "Type"))
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("List<") || t == "CommaDelimitedList");
        if is_list {
            Value::Sequence(value.split(',').map(|s| Value::String(s.into())).collect())
        } else {
            Value::String(value.clone())
        }
    }

    /// What a value (a list item) is for these parameters: the branch of `!If` its condition
    /// picks, recursively; nothing for `AWS::NoValue`. Not evaluated further.
    fn chosen<'v>(&self, value: &'v Value) -> Vec<&'v Value> {
        match intrinsic(value) {
            Some((name, Value::Sequence(args))) if name == "Fn::If" && args.len() == 3 => {
                let branch = if self.condition(args[0].as_str().expect("If condition")) {
                    &args[1]
                } else {
                    &args[2]
                };
                self.chosen(branch)
            }
            _ if is_no_value(value) => Vec::new(),
            _ => vec![value],
        }
    }

    fn condition(&self, name: &str) -> bool {
        let expr = get(self.template, "Conditions")
            .and_then(|c| get(c, name))
            .unwrap_or_else(|| panic!("no condition {name}"));
        match self.eval(expr) {
            Value::Bool(b) => b,
            other => panic!("condition {name} evaluated to {other:?}"),
        }
    }

    /// The value, with `AWS::NoValue` as `Null` (and left out of lists).
    fn eval(&self, value: &Value) -> Value {
        if is_no_value(value) {
            return Value::Null;
        }
        let Some((name, arg)) = intrinsic(value) else {
            return match value {
                Value::Sequence(items) => Value::Sequence(
                    items
                        .iter()
                        .map(|v| self.eval(v))
                        .filter(|v| !v.is_null())
                        .collect(),
                ),
                other => other.clone(),
            };
        };
        let args = || arg.as_sequence().expect("function arguments are a list");
        let text = |v: &Value| scalar(&self.eval(v));
        match name.as_str() {
            "Ref" => self.reference(arg.as_str().expect("Ref name")),
            "Condition" => Value::Bool(self.condition(arg.as_str().expect("condition name"))),
            "Fn::Sub" => {
                let (pattern, vars) = match arg {
                    Value::String(s) => (s.as_str(), Mapping::new()),
                    Value::Sequence(list) => (
                        list[0].as_str().expect("Sub pattern"),
                        list[1].as_mapping().expect("Sub variables").clone(),
                    ),
                    other => panic!("Fn::Sub {other:?}"),
                };
                Value::String(self.substitute(pattern, &vars))
            }
            "Fn::If" => {
                let a = args();
                let branch = if self.condition(a[0].as_str().expect("If condition")) {
                    &a[1]
                } else {
                    &a[2]
                };
                self.eval(branch)
            }
            "Fn::Equals" => {
                let a = args();
                Value::Bool(text(&a[0]) == text(&a[1]))
            }
            "Fn::Not" => match self.eval(&args()[0]) {
                Value::Bool(b) => Value::Bool(!b),
                other => panic!("Fn::Not of {other:?}"),
            },
            "Fn::Join" => {
                let a = args();
                let separator = text(&a[0]);
                let items = self.eval(&a[1]);
                let items: Vec<String> = items
                    .as_sequence()
                    .expect("Join takes a list")
                    .iter()
                    .map(scalar)
                    .collect();
                Value::String(items.join(&separator))
            }
            "Fn::Split" => {
                let a = args();
                let separator = text(&a[0]);
                Value::Sequence(
                    text(&a[1])
                        .split(separator.as_str())
                        .map(|s| Value::String(s.into()))
                        .collect(),
                )
            }
            "Fn::Select" => {
                let a = args();
                let index: usize = text(&a[0]).parse().expect("Select index");
                let list = self.eval(&a[1]);
                list.as_sequence().expect("Select takes a list")[index].clone()
            }
            "Fn::FindInMap" => {
                let a = args();
                let (map, key, field) = (text(&a[0]), text(&a[1]), text(&a[2]));
                get(self.template, "Mappings")
                    .and_then(|m| get(m, &map))
                    .and_then(|m| get(m, &key))
                    .and_then(|m| get(m, &field))
                    .cloned()
                    .unwrap_or_else(|| panic!("FindInMap {map}/{key}/{field}"))
            }
            other => panic!("{other} is not evaluated by this test"),
        }
    }

    /// `${Name}` from `vars`, else a parameter; `${!Literal}` stays `${Literal}`.
    fn substitute(&self, pattern: &str, vars: &Mapping) -> String {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').expect("unclosed ${ in Sub");
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(value) = vars.get(name) {
                out.push_str(&scalar(&self.eval(value)));
            } else {
                out.push_str(&scalar(&self.reference(name)));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// The `CERTWATCH_CONFIG_TOML` of the certwatch container, for these parameter values.
fn service_config_toml(values: &[(&str, &str)]) -> String {
    let template = template(SERVICE_TEMPLATE);
    let eval = Eval::new(&template, values);
    let task = &resources(&template)["TaskDefinition"];
    let containers = get(task, "Properties")
        .and_then(|p| get(p, "ContainerDefinitions"))
        .and_then(Value::as_sequence)
        .expect("ContainerDefinitions");
    let environment = containers
        .iter()
        .find(|c| get(c, "Name").and_then(Value::as_str) == Some("certwatch"))
        .and_then(|c| get(c, "Environment"))
        .and_then(Value::as_sequence)
        .expect("the certwatch container's Environment");
    let entry = environment
        .iter()
        .find(|e| get(e, "Name").and_then(Value::as_str) == Some("CERTWATCH_CONFIG_TOML"))
        .expect("CERTWATCH_CONFIG_TOML is set");
    scalar(&eval.eval(get(entry, "Value").expect("Value")))
}

/// Parameters without a default, with sample values.
const REQUIRED: &[(&str, &str)] = &[
    (
        "ImageUri",
        "111111111111.dkr.ecr.ap-northeast-1.amazonaws.com/certwatch:0.1.0",
    ),
    ("VpcId", "vpc-0123456789abcdef0"),
    (
        "SubnetIds",
        "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    ),
    (
        "SlackSecretArn",
        "arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:certwatch/slack-AbCdEf",
    ),
    ("DigestChannel", "C0123456789"),
];

fn check_config(toml: &str, extra_env: &[(&str, &str)]) -> String {
    let mut env = vec![("CERTWATCH_CONFIG_TOML", toml)];
    env.extend_from_slice(extra_env);
    let out = certwatch(&["check-config"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "certwatch check-config rejected the configuration:\n{toml}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn service_template_writes_a_valid_configuration() {
    // Defaults: no external id, regions "enabled", no admins or channel restrictions.
    let toml = service_config_toml(REQUIRED);
    let shown = check_config(&toml, &[]);
    assert!(shown.contains("certwatch-read-only"), "{shown}");
    assert!(shown.contains("C0123456789"), "{shown}");
    assert!(
        shown.contains("resend_validation_email: false"),
        "the one write is off by default: {shown}"
    );

    // Every optional parameter set.
    let mut values = REQUIRED.to_vec();
    values.extend_from_slice(&[
        ("ExternalId", "certwatch-0f3c"),
        ("Regions", "us-east-1,eu-west-1,ap-northeast-1"),
        ("ScanIntervalMinutes", "120"),
        ("DigestTime", "08:30"),
        ("DigestTimeZone", "Asia/Tokyo"),
        ("PostWhenClear", "false"),
        ("AdminUserIds", "U0123456789,W0123456789"),
        ("ResponderUserIds", "U0RESPOND1,U0RESPOND2"),
        ("RouteByTag", "certwatch-channel"),
        ("AllowResendValidationEmail", "true"),
        ("SlackTeamId", "T0123456789"),
        ("SlackChannelIds", "C0123456789,G0123456789"),
        ("MemberRoleName", "acm-reader"),
    ]);
    let toml = service_config_toml(&values);
    let shown = check_config(&toml, &[]);
    for expected in [
        "acm-reader",
        "certwatch-0f3c",
        "eu-west-1",
        "Asia/Tokyo",
        "U0123456789",
        "W0123456789",
        "T0123456789",
        "G0123456789",
        "U0RESPOND2",
        "resend_validation_email: true",
        "\"certwatch-channel\"",
    ] {
        assert!(shown.contains(expected), "{expected} not in:\n{shown}");
    }
}

/// The service runs only in subnets that have a mount target of the store: the first three.
#[test]
fn service_subnets_each_have_a_mount_target() {
    let template = template(SERVICE_TEMPLATE);
    let all = ["subnet-1", "subnet-2", "subnet-3", "subnet-4"];
    let service = &resources(&template)["Service"];
    let subnets = get(service, "Properties")
        .and_then(|p| get(p, "NetworkConfiguration"))
        .and_then(|n| get(n, "AwsvpcConfiguration"))
        .and_then(|a| get(a, "Subnets"))
        .expect("the service's Subnets");
    for n in 1..=all.len() {
        let given = all[..n].join(",");
        let values = [REQUIRED, &[("SubnetIds", given.as_str())]].concat();
        let eval = Eval::new(&template, &values);
        let used: Vec<String> = eval
            .eval(subnets)
            .as_sequence()
            .expect("a list")
            .iter()
            .map(scalar)
            .collect();
        assert_eq!(used, all[..n.min(3)], "{n} subnets given");
        let mounted: Vec<String> = ["MountTarget1", "MountTarget2", "MountTarget3"]
            .iter()
            .filter(|id| {
                let target = &resources(&template)[**id];
                get(target, "Condition")
                    .and_then(Value::as_str)
                    .is_none_or(|condition| eval.condition(condition))
            })
            .map(|id| {
                let subnet = get(&resources(&template)[*id], "Properties")
                    .and_then(|p| get(p, "SubnetId"))
                    .expect("SubnetId");
                scalar(&eval.eval(subnet))
            })
            .collect();
        assert_eq!(
            mounted, used,
            "{n} subnets given: mount targets vs the service's subnets"
        );
    }
}

#[test]
fn container_config_is_valid() {
    let path = deploy_dir().join("container-config.toml");
    let path = path.to_str().expect("UTF-8 path");
    let out = certwatch(&["check-config", "--config", path], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The image sets `CERTWATCH_CONFIG=/etc/certwatch/config.toml`; the ECS task sets
/// `CERTWATCH_CONFIG_TOML`. The task's text must win, or the stack's parameters are ignored.
#[test]
fn configuration_text_in_the_environment_beats_the_image_config_path() {
    let toml = service_config_toml(&[REQUIRED, &[("MemberRoleName", "from-the-stack")]].concat());
    let image_config = deploy_dir().join("container-config.toml");
    let image_config = image_config.to_str().expect("UTF-8 path");
    let shown = check_config(&toml, &[("CERTWATCH_CONFIG", image_config)]);
    assert!(
        shown.contains("from-the-stack"),
        "CERTWATCH_CONFIG_TOML must take precedence over CERTWATCH_CONFIG:\n{shown}"
    );
}
