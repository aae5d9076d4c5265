//! Raw Kubernetes objects, mutated as JSON rather than as bytes: from the
//! real Rollouts and ReplicaSets of the seed corpus, each mutation swaps a
//! value for one of another type or an edge value, drops or copies a node,
//! so that inputs stay valid JSON and keep reaching the mappings' depths.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| flightdeck_fuzz::cluster_object(data));

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let Ok(mut object) = serde_json::from_slice::<Value>(&data[..size]) else {
        return fuzzer_mutate(data, size, max_size);
    };
    let mut rng = fastrand::Rng::with_seed(u64::from(seed));
    for _ in 0..rng.usize(1..=3) {
        mutate(&mut object, &mut rng);
    }
    let bytes = serde_json::to_vec(&object).expect("a Value serialises");
    if bytes.len() > max_size {
        return fuzzer_mutate(data, size, max_size);
    }
    data[..bytes.len()].copy_from_slice(&bytes);
    bytes.len()
});

/// Values at the edges of what the mappings read: types, signs, sizes, times, durations.
fn edge_value(rng: &mut fastrand::Rng) -> Value {
    match rng.u8(0..22) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(100),
        5 => json!(101),
        6 => json!(i64::MAX),
        7 => json!(i64::MIN),
        8 => json!(u64::MAX),
        9 => json!(u32::MAX),
        10 => json!(1.5),
        11 => json!(1e300),
        12 => json!(""),
        13 => json!("x"),
        14 => json!("2019-10-25T06:07:18Z"),
        15 => json!("9999-12-31T23:59:59Z"),
        16 => json!("1h30m"),
        17 => json!("99999999999999999999h"),
        18 => json!([]),
        19 => json!({}),
        20 => json!(rng.u32(..)),
        _ => json!(rng.i64(-1000..1000)),
    }
}

/// Every node's path, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            pointers(
                v,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

fn mutate(object: &mut Value, rng: &mut fastrand::Rng) {
    let mut all = Vec::new();
    pointers(object, String::new(), &mut all);
    let target = all[rng.usize(..all.len())].clone();
    let donor = object.pointer(&all[rng.usize(..all.len())]).cloned();
    let Some(node) = object.pointer_mut(&target) else {
        return;
    };
    match (rng.u8(0..6), node) {
        (0, Value::Object(map)) if !map.is_empty() => {
            let key = map.keys().nth(rng.usize(..map.len())).cloned();
            key.map(|k| map.shift_remove(&k));
        }
        (0, Value::Array(items)) if !items.is_empty() => {
            items.remove(rng.usize(..items.len()));
        }
        (1, Value::Array(items)) if !items.is_empty() => {
            let copy = items[rng.usize(..items.len())].clone();
            items.insert(rng.usize(..=items.len()), copy);
        }
        (2, node) if node.is_i64() => {
            let n = node.as_i64().unwrap_or(0);
            *node = json!(match rng.u8(0..3) {
                0 => n.wrapping_add(rng.i64(-3..=3)),
                1 => n.wrapping_neg(),
                _ => n.wrapping_mul(10),
            });
        }
        (3, Value::String(text)) => {
            let mut bytes = text.clone().into_bytes();
            let len = bytes.len();
            bytes.resize(len + 8, 0);
            let new_len = fuzzer_mutate(&mut bytes, len, len + 8);
            bytes.truncate(new_len);
            *text = String::from_utf8_lossy(&bytes).into_owned();
        }
        (4, node) => *node = donor.unwrap_or(Value::Null),
        (_, node) => *node = edge_value(rng),
    }
}
