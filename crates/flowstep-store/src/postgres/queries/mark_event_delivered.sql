UPDATE events SET delivered_to = $2 WHERE seq = $1 AND delivered_to IS NULL
