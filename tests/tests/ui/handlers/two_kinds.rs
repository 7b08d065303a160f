use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[call]
    #[cast]
    fn clear(&mut self) {}
}

fn main() {}
