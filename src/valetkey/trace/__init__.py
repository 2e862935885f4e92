"""Flow records to pictures: sequence diagrams of the four participants."""
