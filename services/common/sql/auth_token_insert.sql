-- Nothing: stores a token by its hash ($1) for organisation $2, role $3, label $4.
INSERT INTO core.api_token (token_sha256, org_code, role, label)
VALUES ($1, $2, $3, $4)
