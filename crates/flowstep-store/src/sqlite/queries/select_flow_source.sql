SELECT source FROM flows WHERE flow_hash = $1
