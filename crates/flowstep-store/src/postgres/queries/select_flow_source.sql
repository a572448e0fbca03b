SELECT source, used_json FROM flows WHERE flow_hash = $1
