-- Settings for the rest of this transaction (returns them): no JIT (compiling the indicator
-- queries took about a second each, more than running them over 100,000 people) and room to sort
-- in memory.
SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)
