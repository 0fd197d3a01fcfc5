"""The exchange: offers (供应) and demands (需求), and the agreements they turn into."""
