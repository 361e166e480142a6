-- Whether organisation $2 may see person $1 (the access rule's relationships).
SELECT core.can_see($1::uuid, $2)
