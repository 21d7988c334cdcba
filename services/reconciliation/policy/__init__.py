"""The SOP as versioned data (`sop_v1`), the facts a decision reads, and the rules over them."""
