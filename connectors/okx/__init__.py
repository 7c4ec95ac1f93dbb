"""OKX v5: spot (`okx_spot`) and perpetual swaps (`okx_swap`)."""
