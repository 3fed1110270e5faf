//! Property tests: the engine against a naive model that uses the reference's string
//! keys and full scans, peek against update on a copy, and the record limit.

use std::collections::HashMap;

use afterimage::engine::stats::c_pow;
use afterimage::{state, Address, Config, Engine, LimitPolicy, Protocol, TrafficVector, UpdateError};
use proptest::prelude::*;

/// A direct model of the reference: string keys in one map, links keyed by the pair of
/// key strings, and cleaning that tests every record. With a record limit, a vector
/// that needs too many new records is rejected or evicts the least recently updated.
struct Naive {
    decay: Vec<f64>,
    interval: u64,
    limit: Option<(u64, LimitPolicy)>,
    records: HashMap<String, NaiveRecord>,
    links: HashMap<(String, String), NaiveLink>,
    updates: u64,
    /// Update order of records, for eviction.
    sequence: u64,
}

#[derive(Clone)]
struct NaiveRecord {
    sequence: u64,
    last: f64,
    weight: Vec<f64>,
    sum: Vec<f64>,
    squares: Vec<f64>,
}

struct NaiveLink {
    last: f64,
    residual: Vec<f64>,
}

fn mean(weight: f64, sum: f64) -> f64 {
    if weight < 1e-3 { 0.0 } else { sum / weight }
}

fn variance(weight: f64, sum: f64, squares: f64) -> f64 {
    if weight < 1e-3 { 0.0 } else { (squares / weight - mean(weight, sum) * mean(weight, sum)).abs() }
}

impl Naive {
    fn new(decay: &[f64], interval: u64) -> Naive {
        Naive { decay: decay.to_vec(), interval, limit: None, records: HashMap::new(), links: HashMap::new(), updates: 0, sequence: 0 }
    }

    fn insert(&mut self, key: &str, t: f64, value: Option<i64>) -> Vec<f64> {
        let decay = self.decay.clone();
        self.sequence += 1;
        let sequence = self.sequence;
        let record = self.records.entry(key.to_string());
        let record = match record {
            std::collections::hash_map::Entry::Vacant(entry) => {
                let (v, square) = match value {
                    Some(size) => (size as f64, (size * size) as f64),
                    None => (0.0, c_pow(0.0, 2.0)),
                };
                entry.insert(NaiveRecord {
                    sequence,
                    last: t,
                    weight: vec![1.0; decay.len()],
                    sum: vec![v; decay.len()],
                    squares: vec![square; decay.len()],
                })
            }
            std::collections::hash_map::Entry::Occupied(entry) => {
                let record = entry.into_mut();
                let (v, square) = match value {
                    Some(size) => (size as f64, (size * size) as f64),
                    None => {
                        let jitter = t - record.last;
                        (jitter, c_pow(jitter, 2.0))
                    }
                };
                let elapsed = t - record.last;
                if elapsed >= 0.0 {
                    for i in 0..decay.len() {
                        let factor = c_pow(2.0, -decay[i] * elapsed);
                        record.weight[i] *= factor;
                        record.sum[i] *= factor;
                        record.squares[i] *= factor;
                    }
                }
                for i in 0..decay.len() {
                    record.weight[i] += 1.0;
                    record.sum[i] += v;
                    record.squares[i] += square;
                }
                record.last = t;
                record.sequence = sequence;
                record
            }
        };
        let mut out = record.weight.clone();
        out.extend((0..decay.len()).map(|i| mean(record.weight[i], record.sum[i])));
        out.extend((0..decay.len()).map(|i| variance(record.weight[i], record.sum[i], record.squares[i]).sqrt()));
        out
    }

    fn update_2d(&mut self, first: &str, second: &str, t: f64, size: i64) -> Vec<f64> {
        let mut out = self.insert(first, t, Some(size));
        self.insert(second, t, Some(-size));
        let pair = if first <= second { (first.to_string(), second.to_string()) } else { (second.to_string(), first.to_string()) };
        let windows = self.decay.len();
        let link = self.links.entry(pair).or_insert(NaiveLink { last: t, residual: vec![0.0; windows] });
        let a = &self.records[first];
        let b = &self.records[second];
        let elapsed = t - link.last;
        if elapsed >= 0.0 {
            for i in 0..windows {
                link.residual[i] *= c_pow(2.0, -self.decay[i] * elapsed);
            }
        }
        for i in 0..windows {
            link.residual[i] += (size as f64 - mean(a.weight[i], a.sum[i])) * (size as f64 - mean(b.weight[i], b.sum[i]));
        }
        link.last = t;
        let mut features = vec![0.0; 4 * windows];
        for i in 0..windows {
            let (ma, mb) = (mean(a.weight[i], a.sum[i]), mean(b.weight[i], b.sum[i]));
            let (va, vb) = (variance(a.weight[i], a.sum[i], a.squares[i]), variance(b.weight[i], b.sum[i], b.squares[i]));
            let weight_sum = a.weight[i] + b.weight[i];
            let covariance = if weight_sum < 2e-3 { 0.0 } else { link.residual[i] / weight_sum };
            let product = va.sqrt() * vb.sqrt();
            features[i] = (ma * ma + mb * mb).sqrt();
            features[windows + i] = (va * va + vb * vb).sqrt();
            features[2 * windows + i] = covariance;
            features[3 * windows + i] = if product < 2e-3 { 0.0 } else { covariance / product };
        }
        out.extend(features);
        out
    }

    /// Returns the six keys of a vector: MAC-IP, jitter, channel ends, socket ends.
    fn keys(v: &TrafficVector) -> [String; 6] {
        let (first, second) = if v.src_protocol == Protocol::Arp {
            (v.src_mac.to_string(), v.dst_mac.to_string())
        } else {
            (format!("{}_{}", v.src_ip, v.src_protocol), format!("{}_{}", v.dst_ip, v.dst_protocol))
        };
        [format!("{}_{}", v.src_mac, v.src_ip), format!("{}_{}", v.src_ip, v.dst_ip), v.src_ip.to_string(), v.dst_ip.to_string(), first, second]
    }

    /// Applies the record limit to a vector and reports whether it may go on.
    fn make_room(&mut self, keys: &[String; 6]) -> bool {
        let Some((limit, policy)) = self.limit else { return true };
        let mut distinct: Vec<&String> = Vec::new();
        for key in keys {
            if !distinct.contains(&key) {
                distinct.push(key);
            }
        }
        let needed = distinct.iter().filter(|key| !self.records.contains_key(key.as_str())).count() as u64;
        let live = self.records.len() as u64;
        if live + needed <= limit {
            return true;
        }
        if policy == LimitPolicy::Reject || needed > limit {
            return false;
        }
        for _ in 0..live + needed - limit {
            let victim = self
                .records
                .iter()
                .filter(|(key, _)| !distinct.contains(key))
                .min_by_key(|(_, record)| record.sequence)
                .map(|(key, _)| key.clone())
                .expect("more records than the vector uses");
            self.records.remove(&victim);
            self.links.retain(|(a, b), _| *a != victim && *b != victim);
        }
        true
    }

    /// Returns the features of a vector, or `None` when the record limit rejects it.
    fn update(&mut self, v: &TrafficVector) -> Option<Vec<f64>> {
        let keys = Naive::keys(v);
        if !self.make_room(&keys) {
            return None;
        }
        let (t, size) = (v.timestamp, i64::from(v.size));
        let mut out = self.insert(&keys[0], t, Some(size));
        out.extend(self.insert(&keys[1], t, None));
        out.extend(self.update_2d(&keys[2], &keys[3], t, size));
        out.extend(self.update_2d(&keys[4], &keys[5], t, size));
        self.updates += 1;
        if self.updates % self.interval == 0 {
            let decay = self.decay.clone();
            let outdated: Vec<String> = self
                .records
                .iter()
                .filter(|(_, record)| {
                    let elapsed = t - record.last;
                    elapsed >= 0.0
                        && (0..decay.len()).all(|i| record.weight[i] * c_pow(2.0, -decay[i] * elapsed) < 1e-3)
                })
                .map(|(key, _)| key.clone())
                .collect();
            for key in outdated {
                self.records.remove(&key);
                self.links.retain(|(a, b), _| *a != key && *b != key);
            }
        }
        Some(out)
    }
}

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        Just(Address::Ipv4([10, 0, 0, 1])),
        Just(Address::Ipv4([10, 0, 0, 2])),
        Just(Address::Ipv4([10, 0, 0, 3])),
        Just(Address::Ipv6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
    ]
}

fn link_address() -> impl Strategy<Value = Address> {
    prop_oneof![
        Just(Address::Mac([2, 0, 0, 0, 0, 1])),
        Just(Address::Mac([2, 0, 0, 0, 0, 2])),
        // Raw-IP links use the IP address as the link address.
        Just(Address::Ipv4([10, 0, 0, 1])),
        Just(Address::Ipv4([10, 0, 0, 2])),
    ]
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::None), Just(Protocol::Port(80)), Just(Protocol::Port(443)), Just(Protocol::Icmp), Just(Protocol::Arp)]
}

/// Time steps: mostly small, some zero, some backwards, some long gaps that let
/// records expire.
fn step() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.0f64..0.5,
        1 => Just(0.0),
        1 => -2.0f64..0.0,
        1 => 5.0f64..2000.0,
    ]
}

fn vectors(max: usize) -> impl Strategy<Value = Vec<TrafficVector>> {
    prop::collection::vec((link_address(), link_address(), address(), address(), protocol(), protocol(), step(), 0u32..1600), 1..max)
        .prop_map(|items| {
            let mut t = 1_000.0;
            items
                .into_iter()
                .map(|(src_mac, dst_mac, src_ip, dst_ip, src_protocol, dst_protocol, step, size)| {
                    t += step;
                    TrafficVector { ip_type: 0, src_mac, dst_mac, src_ip, src_protocol, dst_ip, dst_protocol, timestamp: t, size }
                })
                .collect()
        })
}

/// Vectors between 12 host pairs that share no key, at times that also go back.
fn separate_host_vectors(max: usize) -> impl Strategy<Value = Vec<TrafficVector>> {
    prop::collection::vec((0u8..12, step()), 1..max).prop_map(|items| {
        let mut t = 1_000.0;
        items
            .into_iter()
            .map(|(host, step)| {
                t += step;
                own_keys(host, t)
            })
            .collect()
    })
}

fn config(interval: u64) -> Config {
    Config { cleaning_interval: interval, ..Config::default() }
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|value| value.to_bits()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn engine_equals_naive_model(vectors in vectors(300), interval in 1u64..40) {
        // `engine` spreads cleaning over later updates as usual; `settled` finishes
        // every round at once, so that its counts can be compared with the model's.
        // `slow` does one step of deferred work per update, so that cleaning rounds queue
        // up and removed records keep links waiting to be freed.
        let mut engine = Engine::new(config(interval)).unwrap();
        let mut settled = Engine::new(config(interval)).unwrap();
        let mut slow = Engine::new(config(interval)).unwrap();
        slow.set_work_steps(1, 1);
        let mut naive = Naive::new(&engine.config().decay_factors, interval);
        let mut out = vec![0.0; engine.feature_count()];
        let mut settled_out = vec![0.0; engine.feature_count()];
        let mut slow_out = vec![0.0; engine.feature_count()];
        for (index, vector) in vectors.iter().enumerate() {
            engine.update(vector, &mut out).unwrap();
            settled.update(vector, &mut settled_out).unwrap();
            settled.finish_cleaning();
            slow.update(vector, &mut slow_out).unwrap();
            let expected = naive.update(vector).unwrap();
            prop_assert_eq!(bits(&out), bits(&expected), "vector {}", index);
            prop_assert_eq!(bits(&settled_out), bits(&expected), "settled, vector {}", index);
            prop_assert_eq!(bits(&slow_out), bits(&expected), "slow, vector {}", index);
            prop_assert_eq!(settled.stats().records, naive.records.len() as u64, "records after vector {}", index);
            prop_assert_eq!(settled.stats().links, naive.links.len() as u64, "links after vector {}", index);
            let mut slow_settled = slow.clone();
            slow_settled.finish_cleaning();
            prop_assert_eq!(slow_settled.stats().records, naive.records.len() as u64, "slow, records after vector {}", index);
            prop_assert_eq!(slow_settled.stats().links, naive.links.len() as u64, "slow, links after vector {}", index);
        }
    }

    #[test]
    fn peek_equals_update_on_copy(history in vectors(200), batch in vectors(40), interval in 1u64..30) {
        let mut engine = Engine::new(config(interval)).unwrap();
        let mut out = vec![0.0; engine.feature_count()];
        for vector in &history {
            engine.update(vector, &mut out).unwrap();
        }
        let before = engine.stats();
        let mut peeked = vec![0.0; engine.feature_count() * batch.len()];
        engine.peek(&batch, &mut peeked).unwrap();
        prop_assert_eq!(engine.stats(), before);

        let mut copy = engine.clone();
        for (index, vector) in batch.iter().enumerate() {
            copy.update(vector, &mut out).unwrap();
            let chunk = &peeked[index * out.len()..(index + 1) * out.len()];
            prop_assert_eq!(bits(chunk), bits(&out), "batch vector {}", index);
        }

        // The peeked engine continues exactly like one that never peeked.
        let mut fresh = Engine::new(config(interval)).unwrap();
        let mut fresh_out = vec![0.0; fresh.feature_count()];
        for vector in &history {
            fresh.update(vector, &mut fresh_out).unwrap();
        }
        for vector in &batch {
            engine.update(vector, &mut out).unwrap();
            fresh.update(vector, &mut fresh_out).unwrap();
            prop_assert_eq!(bits(&out), bits(&fresh_out));
        }
    }

    #[test]
    fn peek_and_state_mid_deferred_work(history in vectors(200), batch in vectors(40), interval in 1u64..10) {
        // With one step of deferred work per update, peeks and saves happen while
        // several cleaning rounds and link removals are still in progress.
        let mut engine = Engine::new(config(interval)).unwrap();
        engine.set_work_steps(1, 1);
        let mut out = vec![0.0; engine.feature_count()];
        for vector in &history {
            engine.update(vector, &mut out).unwrap();
        }
        let mut peeked = vec![0.0; engine.feature_count() * batch.len()];
        engine.peek(&batch, &mut peeked).unwrap();

        let mut bytes = Vec::new();
        state::save(&engine, &mut bytes).unwrap();
        let mut loaded = state::load_from_bytes(&bytes, Some(engine.config())).unwrap();
        let mut loaded_out = vec![0.0; engine.feature_count()];
        for (index, vector) in batch.iter().enumerate() {
            engine.update(vector, &mut out).unwrap();
            loaded.update(vector, &mut loaded_out).unwrap();
            let chunk = &peeked[index * out.len()..(index + 1) * out.len()];
            prop_assert_eq!(bits(chunk), bits(&out), "peek, batch vector {}", index);
            prop_assert_eq!(bits(&loaded_out), bits(&out), "loaded, batch vector {}", index);
        }
    }

    #[test]
    fn limited_engine_equals_naive_model(
        shared in vectors(150),
        separate in separate_host_vectors(150),
        limit in 6u64..40,
        interval in 1u64..8,
        evict in any::<bool>(),
        slow in any::<bool>(),
        fast_decay in any::<bool>(),
    ) {
        // Every few vectors, a peek of the next three must equal updating a copy. A
        // single fast decay factor makes records expire within seconds, so cleaning
        // rounds remove records all the time.
        let policy = if evict { LimitPolicy::Evict } else { LimitPolicy::Reject };
        let decay_factors = if fast_decay { vec![5.0] } else { Config::default().decay_factors };
        for vectors in [&shared, &separate] {
            let limited =
                Config { record_limit: Some(limit), limit_policy: policy, decay_factors: decay_factors.clone(), ..config(interval) };
            let mut engine = Engine::new(limited).unwrap();
            if slow {
                engine.set_work_steps(1, 1);
            }
            let mut naive = Naive::new(&engine.config().decay_factors, interval);
            naive.limit = Some((limit, policy));
            let mut out = vec![0.0; engine.feature_count()];
            for (index, vector) in vectors.iter().enumerate() {
                if index % 5 == 0 {
                    let batch = &vectors[index..(index + 3).min(vectors.len())];
                    let mut peeked = vec![0.0; engine.feature_count() * batch.len()];
                    let peek_result = engine.peek(batch, &mut peeked);
                    let mut copy = engine.clone();
                    let mut rows = Vec::new();
                    let mut copy_result = Ok(());
                    for vector in batch {
                        copy_result = copy.update(vector, &mut out);
                        if copy_result.is_err() {
                            break;
                        }
                        rows.extend_from_slice(&out);
                    }
                    prop_assert_eq!(peek_result.is_ok(), copy_result.is_ok(), "peek at vector {}", index);
                    if peek_result.is_ok() {
                        prop_assert_eq!(bits(&peeked), bits(&rows), "peek at vector {}", index);
                    }
                }
                let result = engine.update(vector, &mut out);
                match naive.update(vector) {
                    Some(expected) => {
                        prop_assert!(result.is_ok(), "vector {}: {:?}", index, result);
                        prop_assert_eq!(bits(&out), bits(&expected), "vector {}", index);
                    }
                    None => prop_assert!(matches!(result, Err(UpdateError::RecordLimit { .. })), "vector {}: {:?}", index, result),
                }
            }
            engine.finish_cleaning();
            prop_assert_eq!(engine.stats().records, naive.records.len() as u64);
            prop_assert_eq!(engine.stats().links, naive.links.len() as u64);
        }
    }

    #[test]
    fn preallocated_engine_gives_same_features(vectors in vectors(200), interval in 1u64..20) {
        let mut engine = Engine::new(config(interval)).unwrap();
        let mut preallocated = Engine::new(config(interval)).unwrap();
        preallocated.preallocate(50).unwrap();
        let mut out = vec![0.0; engine.feature_count()];
        let mut preallocated_out = vec![0.0; engine.feature_count()];
        for (index, vector) in vectors.iter().enumerate() {
            engine.update(vector, &mut out).unwrap();
            preallocated.update(vector, &mut preallocated_out).unwrap();
            prop_assert_eq!(bits(&preallocated_out), bits(&out), "vector {}", index);
        }
        prop_assert_eq!(preallocated.stats().records, engine.stats().records);
        prop_assert_eq!(preallocated.stats().links, engine.stats().links);
    }

    #[test]
    fn rejected_vector_leaves_state_unchanged(vectors in vectors(200), limit in 6u64..20) {
        let limited = Config { record_limit: Some(limit), ..config(13) };
        let mut engine = Engine::new(limited).unwrap();
        let mut shadow = engine.clone();
        let mut out = vec![0.0; engine.feature_count()];
        let mut shadow_out = vec![0.0; engine.feature_count()];
        for vector in &vectors {
            let result = engine.update(vector, &mut out);
            prop_assert!(engine.stats().records <= limit);
            match result {
                Ok(()) => {
                    shadow.update(vector, &mut shadow_out).unwrap();
                    prop_assert_eq!(bits(&out), bits(&shadow_out));
                }
                Err(UpdateError::RecordLimit { .. }) => {
                    // Looking for room may carry cleaning rounds forward, which frees
                    // records already due, so compare the states with rounds finished.
                    let mut settled = engine.clone();
                    settled.finish_cleaning();
                    let mut settled_shadow = shadow.clone();
                    settled_shadow.finish_cleaning();
                    prop_assert_eq!(settled.stats().records, settled_shadow.stats().records);
                    prop_assert_eq!(settled.stats().links, settled_shadow.stats().links);
                    prop_assert_eq!(settled.stats().updates, settled_shadow.stats().updates);
                }
                Err(other) => prop_assert!(false, "unexpected error {}", other),
            }
        }
    }

    #[test]
    fn evict_policy_never_rejects(vectors in vectors(200), limit in 6u64..20) {
        let evicting = Config { record_limit: Some(limit), limit_policy: LimitPolicy::Evict, ..config(13) };
        let mut engine = Engine::new(evicting).unwrap();
        let mut out = vec![0.0; engine.feature_count()];
        for vector in &vectors {
            engine.update(vector, &mut out).unwrap();
            prop_assert!(engine.stats().records <= limit);
        }
    }

    #[test]
    fn peek_with_limit_equals_update_on_copy(
        history in vectors(100),
        batch in vectors(20),
        limit in 6u64..30,
        interval in 1u64..8,
        slow in any::<bool>(),
    ) {
        for policy in [LimitPolicy::Reject, LimitPolicy::Evict] {
            let limited = Config { record_limit: Some(limit), limit_policy: policy, ..config(interval) };
            let mut engine = Engine::new(limited).unwrap();
            if slow {
                engine.set_work_steps(1, 1);
            }
            let mut out = vec![0.0; engine.feature_count()];
            for vector in &history {
                let _ = engine.update(vector, &mut out);
            }
            let mut peeked = vec![0.0; engine.feature_count() * batch.len()];
            let peek_result = engine.peek(&batch, &mut peeked);
            let mut copy = engine.clone();
            let mut copy_result = Ok(());
            let mut copy_rows = Vec::new();
            for vector in &batch {
                copy_result = copy.update(vector, &mut out);
                if copy_result.is_err() {
                    break;
                }
                copy_rows.extend_from_slice(&out);
            }
            prop_assert_eq!(peek_result.is_ok(), copy_result.is_ok());
            if peek_result.is_ok() {
                prop_assert_eq!(bits(&peeked), bits(&copy_rows));
            }
        }
    }
}

#[test]
fn jitter_starts_at_zero_and_can_be_negative() {
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut out = vec![0.0; 100];
    let vector = |t: f64| TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, 0, 0, 0, 1]),
        dst_mac: Address::Mac([2, 0, 0, 0, 0, 2]),
        src_ip: Address::Ipv4([10, 0, 0, 1]),
        src_protocol: Protocol::Port(1),
        dst_ip: Address::Ipv4([10, 0, 0, 2]),
        dst_protocol: Protocol::Port(2),
        timestamp: t,
        size: 100,
    };
    // Jitter columns: weight 15..20, mean 20..25, std 25..30.
    engine.update(&vector(10.0), &mut out).unwrap();
    assert_eq!(out[20], 0.0);
    engine.update(&vector(9.0), &mut out).unwrap();
    // Time went backwards: no decay, weight 2, values 0 and -1.
    assert_eq!(out[15], 2.0);
    assert_eq!(out[20], -0.5);
}

#[test]
fn self_loop_updates_one_channel_record_twice() {
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut out = vec![0.0; 100];
    let vector = TrafficVector {
        ip_type: 0,
        src_mac: Address::Ipv4([10, 0, 0, 1]),
        dst_mac: Address::Ipv4([10, 0, 0, 1]),
        src_ip: Address::Ipv4([10, 0, 0, 1]),
        src_protocol: Protocol::Port(7),
        dst_ip: Address::Ipv4([10, 0, 0, 1]),
        dst_protocol: Protocol::Port(7),
        timestamp: 1.0,
        size: 60,
    };
    engine.update(&vector, &mut out).unwrap();
    // Channel columns 30..65: the 1D part is a snapshot after +v only (weight 1), the
    // pcc of the first self-loop packet is 0.25 and the magnitude 0.
    assert_eq!(out[30], 1.0);
    assert_eq!(out[35], 60.0);
    assert_eq!(out[45], 0.0);
    assert_eq!(out[60], 0.25);
    // The raw-IP MAC-IP key "a_a" is also the jitter key of this a→a packet: the
    // jitter stream saw the size 60 and then the jitter 0.
    assert_eq!(out[15], 2.0);
    assert_eq!(out[20], 30.0);
    // One channel record, one socket record, one shared MAC-IP/jitter record.
    assert_eq!(engine.stats().records, 3);
    assert_eq!(engine.stats().links, 2);
}

#[test]
fn cleaning_runs_after_every_interval_th_update() {
    let config = Config { cleaning_interval: 3, decay_factors: vec![5.0], ..Config::default() };
    let mut engine = Engine::new(config).unwrap();
    let mut out = vec![0.0; engine.feature_count()];
    let vector = |host: u8, t: f64| TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, 0, 0, 0, host]),
        dst_mac: Address::Mac([2, 0, 0, 0, 0, 99]),
        src_ip: Address::Ipv4([10, 0, 0, host]),
        src_protocol: Protocol::Port(1),
        dst_ip: Address::Ipv4([10, 0, 0, 99]),
        dst_protocol: Protocol::Port(1),
        timestamp: t,
        size: 10,
    };
    engine.update(&vector(1, 0.0), &mut out).unwrap();
    engine.update(&vector(2, 0.0), &mut out).unwrap();
    let before = engine.stats().records;
    // Update 3 is far later: host 1's and host 2's records expire at the round after it.
    engine.update(&vector(3, 100.0), &mut out).unwrap();
    engine.finish_cleaning();
    let after = engine.stats().records;
    assert_eq!(before, 10);
    // Left: host 3's MAC-IP, jitter, channel and socket records and the shared
    // destination channel and socket records.
    assert_eq!(after, 6);
    // Update 4 is no cleaning round: host 1 comes back as new records.
    engine.update(&vector(1, 100.0), &mut out).unwrap();
    assert_eq!(engine.stats().records, 10);
    assert_eq!(out[0], 1.0);
}

/// Builds a vector whose six keys no other `n` shares: hosts 10.0.`n`.1 and 10.0.`n`.2.
fn own_keys(n: u8, timestamp: f64) -> TrafficVector {
    TrafficVector {
        ip_type: 0,
        src_mac: Address::Mac([2, 0, 0, 0, 0, n]),
        dst_mac: Address::Mac([2, 0, 0, 0, 1, n]),
        src_ip: Address::Ipv4([10, 0, n, 1]),
        src_protocol: Protocol::Port(1000),
        dst_ip: Address::Ipv4([10, 0, n, 2]),
        dst_protocol: Protocol::Port(80),
        timestamp,
        size: 100,
    }
}

#[test]
fn peek_counts_set_aside_records() {
    // A peek with a record limit counts the uncopied records that a cleaning round in
    // its batch removes. Records that the round being carried out has set aside (kept,
    // but expiring inside its range) are in no expiry bucket, and were once missed.
    let config = Config { decay_factors: vec![5.0], cleaning_interval: 2, record_limit: Some(18), limit_policy: LimitPolicy::Reject };
    let mut engine = Engine::new(config).unwrap();
    let mut out = vec![0.0; engine.feature_count()];
    engine.update(&own_keys(1, 0.0), &mut out).unwrap();
    // Update 2 starts a round at time 100.
    engine.update(&own_keys(2, 100.0), &mut out).unwrap();
    // Back in time: this update's share of the round removes the first vector's six
    // records and sets aside two of this vector's own.
    engine.update(&own_keys(3, 50.0), &mut out).unwrap();
    // The round of update 4 removes the third vector's records, so the fifth fits.
    let batch = [own_keys(4, 60.0), own_keys(5, 60.0)];
    let mut peeked = vec![0.0; engine.feature_count() * batch.len()];
    let peek_result = engine.peek(&batch, &mut peeked);

    let mut copy = engine.clone();
    let mut rows = Vec::new();
    for vector in &batch {
        copy.update(vector, &mut out).unwrap();
        rows.extend_from_slice(&out);
    }
    assert_eq!(peek_result, Ok(()));
    assert_eq!(bits(&peeked), bits(&rows));
}
