"""crm-dq: judges CRM records the moment they are saved, and in bulk."""
