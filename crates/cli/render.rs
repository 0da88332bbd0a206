//! How a report is shown: one function per output format, chosen by one `match`.

pub mod html;

use certwatch_core::order::most_urgent_first;
use certwatch_core::{CertificateRecord, Finding, Report, Urgency};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// One self-contained page: see [`html`].
    Html,
}

pub fn write(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Csv => csv(report, out),
        Format::Html => html::write(report, &Default::default(), out),
    }
}

/// Findings in reading order, core's ([`certwatch_core::order`]): most urgent first (each
/// finding at its own urgency), then soonest NotAfter, then place; a certificate's findings in
/// core's order (the sort is stable).
fn findings_in_order(report: &Report) -> Vec<(&CertificateRecord, &Finding)> {
    let mut rows: Vec<(&CertificateRecord, &Finding)> = report
        .certificates
        .iter()
        .flat_map(|c| c.findings.iter().map(move |f| (c, f)))
        .collect();
    rows.sort_by_key(|(c, f)| most_urgent_first(c, Some(f.urgency)));
    rows
}

fn account_label(c: &CertificateRecord) -> String {
    if c.account_name.is_empty() {
        c.facts.account_id.clone()
    } else {
        format!("{} ({})", c.account_name, c.facts.account_id)
    }
}

/// The DAYS column: `days_to_expiry`, core's whole days to NotAfter at the scan
/// ([`certwatch_core::expiry::days_to`]).
fn days_label(days: Option<i64>) -> String {
    days.map_or_else(|| "-".to_owned(), |d| d.to_string())
}

/// The one-line verdict at the top of the table output.
pub fn headline(report: &Report) -> String {
    let needing = report
        .certificates
        .iter()
        .filter(|c| !c.findings.is_empty())
        .count();
    let by_urgency: Vec<String> = Urgency::ALL
        .iter()
        .map(|u| {
            let n = report
                .certificates
                .iter()
                .filter(|c| c.worst_urgency() == Some(*u))
                .count();
            format!("{n} {u}")
        })
        .collect();
    format!(
        "{} certificates in {} accounts: {} need a human ({}), {} renew by themselves.",
        report.certificates.len(),
        report.stats.accounts,
        needing,
        by_urgency.join(", "),
        report.certificates.len() - needing
    )
}

fn table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", headline(report))?;
    let rows = findings_in_order(report);
    if !rows.is_empty() {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header([
                "#",
                "URGENCY",
                "CODE",
                "ACCOUNT",
                "REGION",
                "CERTIFICATE",
                "DAYS",
            ]);
        for (i, (c, f)) in rows.iter().enumerate() {
            t.add_row([
                (i + 1).to_string(),
                f.urgency.to_string(),
                f.code.to_string(),
                account_label(c),
                c.facts.region.clone(),
                c.facts.display_name().to_owned(),
                days_label(c.days_to_expiry),
            ]);
        }
        writeln!(out, "\n{t}\n\nWhat to do:")?;
        for (i, (_, f)) in rows.iter().enumerate() {
            writeln!(out, "{:>3}. {}\n     {}", i + 1, f.summary, f.remedy)?;
        }
    }
    if !report.failures.is_empty() {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["ACCOUNT", "REGION", "STAGE", "ERROR"]);
        for f in &report.failures {
            let account = if f.account_name.is_empty() {
                f.account_id.clone()
            } else {
                format!("{} ({})", f.account_name, f.account_id)
            };
            let error = match &f.certificate_arn {
                Some(arn) => format!("{arn}: {}", f.error),
                None => f.error.clone(),
            };
            t.add_row([
                account,
                f.region.clone().unwrap_or_else(|| "(all)".to_owned()),
                f.stage.to_string(),
                error,
            ]);
        }
        writeln!(
            out,
            "\nNot scanned or not checked ({} failures; the rest of the scan went on):\n{t}",
            report.failures.len()
        )?;
    }
    let s = &report.stats;
    writeln!(
        out,
        "\nScanned {} accounts, {} account-regions ({} regions not enabled, skipped), {} certificates \
         with {} AWS calls ({} throttled) in {:.1} s.",
        s.accounts,
        s.targets,
        s.regions_skipped,
        s.certificates,
        s.api_calls,
        s.throttled,
        s.duration_ms as f64 / 1000.0
    )?;
    if s.describes_saved > 0 {
        writeln!(
            out,
            "{} certificates judged from the detail an earlier scan stored (DescribeCertificate              not called again: nothing in their listing changed).",
            s.describes_saved
        )?;
    }
    let c = &s.checks;
    if c.certificates > 0 {
        writeln!(
            out,
            "Checked what the world sees of {} certificates: {} DNS lookups, {} TLS handshakes \
             ({} could not be made) in {:.1} s.",
            c.certificates,
            c.lookups,
            c.probes,
            c.failures,
            c.duration_ms as f64 / 1000.0
        )?;
    }
    if s.search_fallbacks > 0 {
        writeln!(
            out,
            "{} account-regions were listed with ListCertificates and every certificate described \
             (SearchCertificates refused or not served): grant acm:SearchCertificates to the \
             member role to scan them with fewer calls.",
            s.search_fallbacks
        )?;
    }
    Ok(())
}

fn csv(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "account_id",
        "account_name",
        "region",
        "arn",
        "domain_name",
        "type",
        "status",
        "not_after",
        "days_to_expiry",
        "code",
        "urgency",
        "summary",
        "remedy",
    ])?;
    for c in &report.certificates {
        let base = [
            c.facts.account_id.clone(),
            c.account_name.clone(),
            c.facts.region.clone(),
            c.facts.arn.clone(),
            c.facts.domain_name.clone().unwrap_or_default(),
            c.facts.cert_type.to_string(),
            c.facts.status.to_string(),
            c.facts
                .not_after
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            c.days_to_expiry.map(|d| d.to_string()).unwrap_or_default(),
        ];
        if c.findings.is_empty() {
            // One row per certificate that renews by itself, with empty finding columns.
            w.write_record(base.iter().map(String::as_str).chain(["", "", "", ""]))?;
        }
        for f in &c.findings {
            w.write_record(base.iter().map(String::as_str).chain([
                f.code.as_str(),
                f.urgency.as_str(),
                f.summary.as_str(),
                f.remedy.as_str(),
            ]))?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use certwatch_core::{classify, CertStatus, CertificateFacts, Policy, Stats, ValidationMethod};
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
    }

    /// A certificate of `account` judged at `now()`: Amazon-issued, email-validated (so it has
    /// a finding at least), NotAfter `not_after` from now (None: none), status `status`.
    fn record(
        name: &str,
        account: &str,
        not_after: Option<Duration>,
        status: CertStatus,
    ) -> CertificateRecord {
        let arn = format!("arn:aws:acm:eu-west-1:{account}:certificate/{name}");
        let mut facts = CertificateFacts::new(account, "eu-west-1", &arn);
        facts.domain_name = Some(name.to_owned());
        facts.status = status;
        facts.not_after = not_after.map(|d| now() + d);
        facts.not_before = facts.not_after.map(|t| t - Duration::days(198));
        facts.in_use = true;
        facts.described = true;
        facts.domain_validation_options = vec![certwatch_core::DomainValidation {
            domain_name: name.to_owned(),
            validation_method: Some(ValidationMethod::Email),
            validation_emails: vec![format!("admin@{name}")],
            ..Default::default()
        }];
        let findings = classify(&facts, now(), &Policy::default());
        assert!(!findings.is_empty(), "{name}");
        CertificateRecord::new("acct", facts, findings, now())
    }

    fn table_of(certificates: Vec<CertificateRecord>) -> String {
        let report = Report {
            generated_at: now(),
            certificates,
            failures: Vec::new(),
            accounts: Vec::new(),
            stats: Stats::default(),
        };
        let mut out = Vec::new();
        write(&report, Format::Table, &mut out).expect("a table");
        String::from_utf8(out).expect("utf-8")
    }

    /// The table lists findings in core's order: an EXPIRED certificate without a NotAfter first
    /// among the expired (it was last before), and the DAYS column holds core's whole days
    /// (truncated: ten seconds past NotAfter is 0, not -1).
    #[test]
    fn rows_follow_cores_order_and_days() {
        let (d, s) = (Duration::days, Duration::seconds);
        let (a, b) = ("111111111111", "222222222222");
        let (issued, expired) = (CertStatus::Issued, CertStatus::Expired);
        let mut certificates = vec![
            record("later.example.com", a, Some(d(100)), issued.clone()),
            record("gone.example.com", b, Some(-d(3)), issued.clone()),
            record("just.example.com", a, Some(-s(10)), issued.clone()),
            record("undated.example.com", b, None, expired),
            record("soon.example.com", a, Some(d(5)), issued),
        ];
        certificates.sort_by(|a, b| a.place().cmp(&b.place()));
        let table = table_of(certificates);
        let order: Vec<usize> = [
            "undated.example.com",
            "gone.example.com",
            "just.example.com",
            "soon.example.com",
            "later.example.com",
        ]
        .iter()
        .map(|name| table.find(&format!("┆ {name}")).expect(name))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{table}");
        // The last cell of the certificate's first row: DAYS.
        let days = |name: &str| {
            let line = table
                .lines()
                .find(|l| l.contains(&format!("┆ {name}")))
                .expect(name);
            let cells: Vec<&str> = line.split(['│', '┆']).map(str::trim).collect();
            cells[cells.len() - 2].to_owned()
        };
        assert_eq!(days("just.example.com"), "0", "{table}");
        assert_eq!(days("gone.example.com"), "-3", "{table}");
        assert_eq!(days("soon.example.com"), "5", "{table}");
        assert_eq!(days("undated.example.com"), "-", "{table}");
        assert!(
            table.contains("just.example.com expired less than a day ago"),
            "{table}"
        );
    }
}
