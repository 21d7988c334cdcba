"""Partner disputes: debit notices, their signed delivery, contests, rulings, statements."""
