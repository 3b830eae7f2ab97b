"""Collections: payments and refunds against instalments, receivables ageing and arrears."""
