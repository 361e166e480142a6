-- Every MHA legal status: code, description, S117 qualification, short-term hold.
SELECT code, description, s117_qualifying, short_term_hold
FROM core.mha_legal_status
