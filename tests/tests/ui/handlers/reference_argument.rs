use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[call]
    fn get(&mut self, key: &str) -> usize {
        key.len()
    }
}

fn main() {}
