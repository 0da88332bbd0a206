//! DNS questions answered once per scan: each (name, record type) is asked once, whatever the
//! number of certificates sharing it, and its answer is kept in a compact form.
//!
//! CNAMEs are followed: the answer's own chain first (a recursive resolver sends the whole
//! chain), then, if the chain ends at a name the response says nothing about, that name is asked
//! in turn (at most [`MAX_HOPS`] times, never in a loop). Only the first question of a chain is
//! cached; a followed target is asked afresh, so two chains can never wait for each other.

use crate::cache::OnceMap;
use crate::resolver::{Nameservers, Reply};
use certwatch_core::CaaRecord;
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::CNAME;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use std::net::IpAddr;
use std::sync::Arc;

/// Questions asked for one chain before giving up.
pub(crate) const MAX_HOPS: usize = 8;

/// The records found at the end of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Data {
    /// A or AAAA.
    Addresses(Box<[IpAddr]>),
    /// CNAME targets at the asked name (a CNAME question), fully qualified.
    Targets(Box<[Box<str>]>),
    /// CAA records and their owner: the asked name, or the CNAME target that holds them.
    Caa {
        owner: Box<str>,
        records: Box<[CaaRecord]>,
    },
}

/// One question's answer, as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    Records {
        chain: Box<[Box<str>]>,
        data: Data,
    },
    NxDomain {
        chain: Box<[Box<str>]>,
    },
    NoData {
        chain: Box<[Box<str>]>,
    },
    /// No answer could be had: the text names the question and what happened.
    Failed(Box<str>),
}

impl Resolved {
    /// The CNAMEs followed, without their final dot.
    pub(crate) fn chain(&self) -> &[Box<str>] {
        match self {
            Resolved::Records { chain, .. }
            | Resolved::NxDomain { chain }
            | Resolved::NoData { chain } => chain,
            Resolved::Failed(_) => &[],
        }
    }
}

/// The DNS side of a scan: the nameservers and the answers so far.
pub(crate) struct Lookups {
    nameservers: Nameservers,
    answers: OnceMap<(Box<str>, RecordType), Arc<Resolved>>,
}

impl Lookups {
    pub(crate) fn new(nameservers: Nameservers) -> Lookups {
        Lookups {
            nameservers,
            answers: OnceMap::new(),
        }
    }

    pub(crate) fn sent(&self) -> u64 {
        self.nameservers.sent()
    }

    /// The answer for `name` (any case, final dot or not) and `record_type`.
    pub(crate) async fn resolve(&self, name: &str, record_type: RecordType) -> Arc<Resolved> {
        let key = fqdn(name);
        self.answers
            .get_or_run((key.clone().into_boxed_str(), record_type), || async {
                Arc::new(self.resolve_uncached(&key, record_type).await)
            })
            .await
    }

    async fn resolve_uncached(&self, fqdn: &str, record_type: RecordType) -> Resolved {
        let Ok(asked) = Name::from_ascii(fqdn) else {
            return Resolved::Failed(
                format!("{record_type} lookup of {fqdn}: not a valid DNS name").into(),
            );
        };
        let mut chain: Vec<Name> = Vec::new();
        let mut current = asked.clone();
        for _ in 0..MAX_HOPS {
            let reply = match self.nameservers.query(&current, record_type).await {
                Ok(reply) => reply,
                Err(error) => {
                    return Resolved::Failed(
                        format!("{record_type} lookup of {}: {error}", bare(&current)).into(),
                    )
                }
            };
            let message = match reply {
                Reply::NxDomain => {
                    return Resolved::NxDomain {
                        chain: names(&chain),
                    }
                }
                Reply::NoData => {
                    return Resolved::NoData {
                        chain: names(&chain),
                    }
                }
                Reply::Message(message) => message,
            };
            let read = read(&message, &current, record_type);
            for target in &read.chain {
                if *target == asked || *target == current || chain.contains(target) {
                    return Resolved::Failed(
                        format!(
                            "{record_type} lookup of {fqdn}: CNAME loop at {}",
                            bare(target)
                        )
                        .into(),
                    );
                }
                chain.push(target.clone());
            }
            if let Some(data) = read.data {
                return Resolved::Records {
                    chain: names(&chain),
                    data,
                };
            }
            if message.metadata.response_code == ResponseCode::NXDomain {
                return Resolved::NxDomain {
                    chain: names(&chain),
                };
            }
            // NOERROR without data: a negative answer for the chain's end (it carries the
            // SOA), or a response that stopped at a CNAME it had no records for.
            let negative = message
                .authorities
                .iter()
                .any(|r| r.record_type() == RecordType::SOA);
            if read.chain.is_empty() || negative {
                return Resolved::NoData {
                    chain: names(&chain),
                };
            }
            current = read.end;
        }
        Resolved::Failed(
            format!("{record_type} lookup of {fqdn}: more than {MAX_HOPS} CNAMEs to follow").into(),
        )
    }
}

/// What one response says about (`asked`, `record_type`).
#[derive(Debug)]
struct Read {
    /// CNAME targets followed from `asked`, in order.
    chain: Vec<Name>,
    /// The chain's end (`asked` when there is no chain).
    end: Name,
    data: Option<Data>,
}

/// Follows the CNAMEs of a response from `asked` and takes the records of `record_type` at the
/// chain's end. Records are looked for in the answer and additional sections: some
/// authoritative servers put a chased CNAME target's records in the latter.
fn read(message: &Message, asked: &Name, record_type: RecordType) -> Read {
    let records: Vec<&Record> = message.answers.iter().chain(&message.additionals).collect();
    let mut chain: Vec<Name> = Vec::new();
    let mut end = asked.clone();
    if record_type != RecordType::CNAME {
        while chain.len() < MAX_HOPS * 2 {
            let next = records.iter().find_map(|r| match &r.data {
                RData::CNAME(CNAME(target)) if r.name == end => Some(target.clone()),
                _ => None,
            });
            let Some(target) = next else { break };
            let looped = target == *asked || chain.contains(&target);
            chain.push(target.clone());
            end = target;
            if looped {
                break;
            }
        }
    }
    let at_end = records.iter().filter(|r| r.name == end);
    let data = match record_type {
        RecordType::A | RecordType::AAAA => {
            let addresses: Vec<IpAddr> = at_end
                .filter_map(|r| match &r.data {
                    RData::A(a) if record_type == RecordType::A => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) if record_type == RecordType::AAAA => Some(IpAddr::V6(a.0)),
                    _ => None,
                })
                .collect();
            (!addresses.is_empty()).then(|| Data::Addresses(addresses.into()))
        }
        RecordType::CNAME => {
            let targets: Vec<Box<str>> = at_end
                .filter_map(|r| match &r.data {
                    RData::CNAME(CNAME(target)) => Some(target.to_ascii().into_boxed_str()),
                    _ => None,
                })
                .collect();
            (!targets.is_empty()).then(|| Data::Targets(targets.into()))
        }
        RecordType::CAA => {
            let records: Vec<CaaRecord> = at_end
                .filter_map(|r| match &r.data {
                    RData::CAA(caa) => Some(crate::caa::record(caa)),
                    _ => None,
                })
                .collect();
            (!records.is_empty()).then(|| Data::Caa {
                owner: bare(&end).into_boxed_str(),
                records: records.into(),
            })
        }
        _ => None,
    };
    Read { chain, end, data }
}

/// `name` lowercase with one final dot: the form asked and cached (no search-list expansion).
pub(crate) fn fqdn(name: &str) -> String {
    let mut name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    name.push('.');
    name
}

/// A name as shown in results: ASCII, without the final dot.
fn bare(name: &Name) -> String {
    let mut text = name.to_ascii();
    if text.len() > 1 && text.ends_with('.') {
        text.pop();
    }
    text
}

fn names(chain: &[Name]) -> Box<[Box<str>]> {
    chain.iter().map(|n| bare(n).into_boxed_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::op::{Message, MessageType, OpCode};
    use hickory_resolver::proto::rr::rdata::{A, AAAA, CAA};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn message(answers: Vec<Record>, additionals: Vec<Record>) -> Message {
        let mut m = Message::new(0, MessageType::Response, OpCode::Query);
        m.answers = answers;
        m.additionals = additionals;
        m
    }

    fn rec(owner: &str, data: RData) -> Record {
        Record::from_rdata(name(owner), 300, data)
    }

    #[test]
    fn a_chain_is_followed_to_its_addresses() {
        let m = message(
            vec![
                rec(
                    "www.example.test.",
                    RData::CNAME(CNAME(name("lb.example.net."))),
                ),
                rec(
                    "lb.example.net.",
                    RData::CNAME(CNAME(name("edge.cdn.test."))),
                ),
                rec("edge.cdn.test.", RData::A(A(Ipv4Addr::new(192, 0, 2, 1)))),
                rec("other.test.", RData::A(A(Ipv4Addr::new(192, 0, 2, 9)))),
            ],
            vec![],
        );
        let read = read(&m, &name("WWW.example.test."), RecordType::A);
        assert_eq!(
            read.chain,
            [name("lb.example.net."), name("edge.cdn.test.")]
        );
        assert_eq!(
            read.data,
            Some(Data::Addresses(
                [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))].into()
            ))
        );
        let v6 = read_v6(&m);
        assert_eq!(v6.data, None, "no AAAA at the end of the chain");
        assert_eq!(v6.end, name("edge.cdn.test."));
    }

    fn read_v6(m: &Message) -> Read {
        read(m, &name("www.example.test."), RecordType::AAAA)
    }

    #[test]
    fn chased_targets_in_the_additional_section_count() {
        let m = message(
            vec![rec("a.test.", RData::CNAME(CNAME(name("b.test."))))],
            vec![rec("b.test.", RData::AAAA(AAAA(Ipv6Addr::LOCALHOST)))],
        );
        let read = read(&m, &name("a.test."), RecordType::AAAA);
        assert_eq!(
            read.data,
            Some(Data::Addresses([IpAddr::V6(Ipv6Addr::LOCALHOST)].into()))
        );
    }

    #[test]
    fn a_cname_question_takes_the_targets_at_the_name() {
        let m = message(
            vec![rec(
                "_x.shop.test.",
                RData::CNAME(CNAME(name("_y.acm-validations.aws."))),
            )],
            vec![],
        );
        let read = read(&m, &name("_x.shop.test."), RecordType::CNAME);
        assert!(read.chain.is_empty());
        assert_eq!(
            read.data,
            Some(Data::Targets(["_y.acm-validations.aws.".into()].into()))
        );
    }

    #[test]
    fn caa_at_a_cname_target_is_owned_by_the_target() {
        let m = message(
            vec![
                rec("shop.test.", RData::CNAME(CNAME(name("shop.cdn.test.")))),
                rec(
                    "shop.cdn.test.",
                    RData::CAA(CAA::new_issue(true, Some(name("amazon.com")), vec![])),
                ),
            ],
            vec![],
        );
        let read = read(&m, &name("shop.test."), RecordType::CAA);
        let Some(Data::Caa { owner, records }) = read.data else {
            panic!("{read:?}")
        };
        assert_eq!(&*owner, "shop.cdn.test");
        assert_eq!(records[0].flags, 128);
        assert_eq!(records[0].tag, "issue");
    }

    #[test]
    fn a_loop_ends_the_chain() {
        let m = message(
            vec![
                rec("a.test.", RData::CNAME(CNAME(name("b.test.")))),
                rec("b.test.", RData::CNAME(CNAME(name("a.test.")))),
            ],
            vec![],
        );
        let read = read(&m, &name("a.test."), RecordType::A);
        assert_eq!(read.chain, [name("b.test."), name("a.test.")]);
        assert_eq!(read.data, None);
    }

    #[test]
    fn names_are_asked_lowercase_and_fully_qualified() {
        assert_eq!(fqdn("Shop.Example.COM"), "shop.example.com.");
        assert_eq!(fqdn("shop.example.com."), "shop.example.com.");
        assert_eq!(bare(&name("shop.example.com.")), "shop.example.com");
    }
}
