mailhealth:Mail Health
